using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Infrastructure.Access;

/// <summary>
/// Encrypts each data-protection key's secret part with AES-256-GCM under the <see cref="KeyEncryptionKey"/>, a fresh
/// random nonce per key, so the key ring in the database holds no key material in clear (decision record 0024).
/// </summary>
public sealed class KeyRingEncryptor(KeyEncryptionKey key) : IXmlEncryptor
{
    internal const string ElementName = "encryptedKey";
    internal const int NonceBytes = 12;
    internal const int TagBytes = 16;

    // Binds every ciphertext to its use here: a blob made with the same key elsewhere does not decrypt as a key.
    internal static readonly byte[] Purpose = Encoding.UTF8.GetBytes("etcd-backup-console key ring v1");

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var plain = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var tag = new byte[TagBytes];
        var cipher = new byte[plain.Length];
        try
        {
            using var aes = new AesGcm(key.Bytes, TagBytes);
            aes.Encrypt(nonce, plain, cipher, tag, Purpose);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }

        var element = new XElement(
            ElementName,
            new XAttribute("algorithm", "AES-256-GCM"),
            new XComment(" encrypted with Console:DataProtection:KeyEncryptionKey (or DataDir/keyring.key), see decision record 0024 "),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("tag", Convert.ToBase64String(tag)),
            new XElement("value", Convert.ToBase64String(cipher)));
        return new EncryptedXmlInfo(element, typeof(KeyRingDecryptor));
    }
}

/// <summary>The other half of <see cref="KeyRingEncryptor"/>; made by the data-protection system with its services.</summary>
public sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public const string WrongKey =
        "the key ring was encrypted with another KeyEncryptionKey: give this console the Console:DataProtection:KeyEncryptionKey (or DataDir/keyring.key) "
        + "the other consoles on this database use";

    public XElement Decrypt(XElement encryptedElement) => Decrypt(encryptedElement, services.GetRequiredService<KeyEncryptionKey>());

    internal static XElement Decrypt(XElement encryptedElement, KeyEncryptionKey key)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        if (encryptedElement.Name != KeyRingEncryptor.ElementName)
        {
            throw new CryptographicException($"an element <{encryptedElement.Name}> of the key ring is not one of ours (<{KeyRingEncryptor.ElementName}>)");
        }

        var nonce = Convert.FromBase64String((string?)encryptedElement.Element("nonce") ?? "");
        var tag = Convert.FromBase64String((string?)encryptedElement.Element("tag") ?? "");
        var cipher = Convert.FromBase64String((string?)encryptedElement.Element("value") ?? "");
        var plain = new byte[cipher.Length];
        try
        {
            using var aes = new AesGcm(key.Bytes, KeyRingEncryptor.TagBytes);
            aes.Decrypt(nonce, cipher, tag, plain, KeyRingEncryptor.Purpose);
            return XElement.Parse(Encoding.UTF8.GetString(plain));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new CryptographicException(WrongKey, ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}
