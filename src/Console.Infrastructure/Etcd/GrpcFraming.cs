using System.Buffers.Binary;
using Google.Protobuf;

namespace Console.Infrastructure.Etcd;

/// <summary>gRPC's length-prefixed message framing: 1 byte "compressed" flag, 4 bytes big-endian length, the message.</summary>
internal static class GrpcFraming
{
    public const int HeaderSize = 5;

    /// <summary>Largest message we accept; etcd's own default limit for a response is 2 GiB, but real messages are small
    /// (snapshot chunks are 32 KiB), so anything larger means the stream is not what we think it is.</summary>
    public const int MaxMessageSize = 64 * 1024 * 1024;

    public static byte[] Frame(IMessage message)
    {
        var size = message.CalculateSize();
        var buffer = new byte[HeaderSize + size];
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1, 4), (uint)size);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>Reads the next message body, or returns null at a clean end of stream between messages.</summary>
    public static async ValueTask<byte[]?> ReadMessageAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        var got = await ReadAtLeastAsync(stream, header, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < HeaderSize)
        {
            throw new IOException("the gRPC stream ended in the middle of a message header");
        }

        if (header[0] != 0)
        {
            throw new IOException("the server sent a compressed gRPC message, which the console did not ask for");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1, 4));
        if (length > MaxMessageSize)
        {
            throw new IOException($"the server announced a {length}-byte gRPC message, larger than the {MaxMessageSize}-byte limit");
        }

        var body = new byte[length];
        var read = await ReadAtLeastAsync(stream, body.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
        if (read < length)
        {
            throw new IOException($"the gRPC stream ended in the middle of a message ({read} of {length} bytes)");
        }

        return body;
    }

    private static async ValueTask<int> ReadAtLeastAsync(Stream stream, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var read = await stream.ReadAsync(destination[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
