using System.Net.Http.Json;
using System.Net.Mail;
using System.Text;

namespace Console.Infrastructure.Alerts;

/// <summary>How one attempt at one channel ended, in words without secrets.</summary>
public sealed record DeliveryResult(bool Delivered, string Detail);

/// <summary>
/// Sends one alert through one channel, once: a JSON POST (webhook), Slack's {"text": …} (incoming webhook), or an
/// e-mail over SMTP. Never throws for a failed delivery; the result's detail never quotes a URL or a password.
/// </summary>
public sealed class AlertSender : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly HttpClient _http = new() { Timeout = Timeout };

    public async Task<DeliveryResult> SendAsync(AlertChannel channel, AlertMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return channel.Kind switch
            {
                AlertChannelKind.Webhook => await PostAsync(channel, JsonContent.Create(message, options: new(System.Text.Json.JsonSerializerDefaults.Web)), cancellationToken).ConfigureAwait(false),
                AlertChannelKind.Slack => await PostAsync(channel, JsonContent.Create(new { text = $"*{message.Headline}*\n{message.Text}" }), cancellationToken).ConfigureAwait(false),
                _ => await MailAsync(channel, message, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or SmtpException or IOException or InvalidOperationException or FormatException
            or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is TaskCanceledException ? $"no answer within {Timeout.TotalSeconds:0}s" : ex.InnerException?.Message is { } inner ? $"{ex.Message} ({inner})" : ex.Message;
            return new DeliveryResult(false, channel.Scrub(reason));
        }
    }

    private async Task<DeliveryResult> PostAsync(AlertChannel channel, HttpContent content, CancellationToken cancellationToken)
    {
        using (content)
        {
            using var response = await _http.PostAsync(channel.Url, content, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            return new DeliveryResult(response.IsSuccessStatusCode, $"HTTP {code} {response.ReasonPhrase}".TrimEnd());
        }
    }

    private static async Task<DeliveryResult> MailAsync(AlertChannel channel, AlertMessage message, CancellationToken cancellationToken)
    {
        var smtp = channel.Smtp!;
        using var mail = new MailMessage { From = new MailAddress(smtp.From!), Subject = message.Headline, Body = message.Text, BodyEncoding = Encoding.UTF8, SubjectEncoding = Encoding.UTF8 };
        foreach (var to in smtp.To)
        {
            mail.To.Add(to);
        }

        // EnableSsl is STARTTLS for System.Net.Mail (it does not speak implicit TLS on 465).
        using var client = new SmtpClient(smtp.Host, smtp.Port) { EnableSsl = smtp.StartTls, DeliveryMethod = SmtpDeliveryMethod.Network, Timeout = (int)Timeout.TotalMilliseconds };
        if (smtp.User is not null)
        {
            client.Credentials = new System.Net.NetworkCredential(smtp.User, smtp.Password);
        }

        await client.SendMailAsync(mail, cancellationToken).ConfigureAwait(false);
        return new DeliveryResult(true, $"accepted by {smtp.Host}:{smtp.Port}");
    }

    public void Dispose() => _http.Dispose();
}
