using System.Net;
using System.Security.Cryptography;
using System.Xml.Linq;
using Console.Domain.Access;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Console.Web.Tests.EndToEnd;

/// <summary>Two consoles on one PostgreSQL database: whoever signs in on one is signed in on both (decision record 0024).</summary>
[Collection(PostgresCollection.Name)]
public sealed class ReplicaSignInTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_cookie_made_by_one_replica_is_accepted_by_the_other()
    {
        await using var replicas = await Replicas.StartAsync(postgres);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var signedIn = await replicas.A.SignedInClientAsync(Role.Viewer);

        var withoutCookie = await anonymous.GetAsync(new Uri(replicas.B.Address, "/"));
        var withCookie = await signedIn.GetAsync(new Uri(replicas.B.Address, "/"));

        Assert.Equal(HttpStatusCode.Redirect, withoutCookie.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withCookie.StatusCode);
    }

    [Fact]
    public async Task A_lockout_caused_on_one_replica_holds_on_the_other_even_when_the_guesses_come_at_once_to_both()
    {
        await using var replicas = await Replicas.StartAsync(postgres);
        var (name, password) = await replicas.A.UserAsync(Role.Viewer);

        // Each form is loaded from one replica and posted to the other: antiforgery tokens are shared too.
        var guesses = await Task.WhenAll(Enumerable.Range(0, LockoutPolicy.Default.MaxFailures).Select(i =>
            i % 2 == 0 ? SignInAcrossAsync(replicas.A, replicas.B, name, $"wrong-{i}") : SignInAcrossAsync(replicas.B, replicas.A, name, $"wrong-{i}")));

        Assert.All(guesses, g => Assert.Equal(HttpStatusCode.OK, g)); // the form again, not a redirect, nor 400 for a foreign token
        var accounts = replicas.B.Services.GetRequiredService<AccountService>();
        Assert.Equal(SignInStatus.LockedOut, (await accounts.SignInAsync(name, password, "127.0.0.1", CancellationToken.None)).Status);
        Assert.NotEqual(HttpStatusCode.Redirect, await SignInAcrossAsync(replicas.B, replicas.B, name, password));
    }

    [Fact]
    public async Task Sign_in_posts_from_one_address_are_counted_across_replicas()
    {
        await using var replicas = await Replicas.StartAsync(postgres);
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < SignInAttempts.Limit; i++)
        {
            var replica = i % 2 == 0 ? replicas.A : replicas.B;
            answers.Add(await SignInAcrossAsync(replica, replica, $"nobody-{i}", "wrong"));
        }

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, answers);
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = replicas.A.Address };
        var refused = await ConsoleApp.SignInAsync(client, "nobody-21", "wrong");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(SignInAttempts.RefusedMessage, await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_key_ring_in_the_database_holds_no_key_in_clear_and_a_console_with_another_key_refuses_to_start()
    {
        string connectionString;
        await using (var replicas = await Replicas.StartAsync(postgres))
        {
            connectionString = replicas.ConnectionString;
            using var _ = await replicas.A.SignedInClientAsync(Role.Viewer);
            var key = replicas.A.Services.GetRequiredService<KeyEncryptionKey>();
            var rows = await RowsAsync(connectionString);

            Assert.NotEmpty(rows);
            foreach (var xml in rows)
            {
                Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
                var encrypted = Assert.Single(XElement.Parse(xml).Descendants("encryptedKey"));
                var secret = KeyRingDecryptor.Decrypt(encrypted, key);
                Assert.Equal("masterKey", secret.Name.LocalName);
                Assert.DoesNotContain((string)secret.Descendants().First(e => e.Name.LocalName == "value"), xml, StringComparison.Ordinal);
                var other = new KeyEncryptionKey(Options.Create(new ConsoleSettings { DataProtection = new() { KeyEncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) } }));
                var wrong = Assert.Throws<CryptographicException>(() => KeyRingDecryptor.Decrypt(encrypted, other));
                Assert.Contains("the key ring was encrypted with another KeyEncryptionKey", wrong.Message, StringComparison.Ordinal);
            }
        }

        using var data = new TestDirectory("kek-wrong");
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var environment = ProcessEnvironment(data, connectionString);
        environment["Console__DataProtection__KeyEncryptionKey"] = otherKey;
        using var console = ConsoleProcess.Start(environment);

        Assert.Equal(2, await console.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.Contains("cannot be decrypted with Console:DataProtection:KeyEncryptionKey: the key ring was encrypted with another KeyEncryptionKey", console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(otherKey, console.Error + console.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(TestTokens.KeyEncryptionKey, console.Error + console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_without_a_key_encryption_key_stops_startup_naming_the_key_and_how_to_make_one()
    {
        using var data = new TestDirectory("kek-missing");
        var environment = ProcessEnvironment(data, await postgres.CreateDatabaseAsync());
        using var console = ConsoleProcess.Start(environment);

        Assert.Equal(2, await console.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.Contains("Console:DataProtection:KeyEncryptionKey is required when Console:Database:Provider is postgres", console.Error, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", console.Error, StringComparison.Ordinal);
    }

    /// <summary>Loads the sign-in form from one replica and posts it to the other; the status code of the answer.</summary>
    internal static async Task<HttpStatusCode> SignInAcrossAsync(ConsoleApp formFrom, ConsoleApp postTo, string name, string password)
    {
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false });
        var form = await client.GetStringAsync(new Uri(formFrom.Address, "/account/login"));
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = ConsoleApp.AntiforgeryToken(form),
            ["_handler"] = "login",
            ["Input.Name"] = name,
            ["Input.Password"] = password,
        });
        return (await client.PostAsync(new Uri(postTo.Address, "/account/login"), content)).StatusCode;
    }

    private static async Task<List<string>> RowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return [.. await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys")];
    }

    /// <summary>A console process on the database, without a key-encryption key.</summary>
    private static Dictionary<string, string> ProcessEnvironment(TestDirectory data, string connectionString) => new()
    {
        ["Console__DataDir"] = data.Path,
        ["Console__Clusters__0__Name"] = "prod",
        ["Console__Clusters__0__Endpoints__0"] = "http://127.0.0.1:9",
        ["Console__Database__Provider"] = "postgres",
        ["Console__Database__ConnectionString"] = connectionString,
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
    };
}

/// <summary>The key ring on SQLite without a configured key: encrypted with a key file only the console's user can read.</summary>
public sealed class SqliteKeyRingTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Without_a_key_encryption_key_sqlite_makes_a_key_file_of_mode_0600_and_stores_no_key_in_clear()
    {
        await using var app = ConsoleApp.Start();
        using var _ = await app.SignedInClientAsync(Role.Viewer);
        var file = Path.Combine(app.DataDir, KeyEncryptionKey.FileName);

        Assert.True(File.Exists(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var connection = await app.Services.GetRequiredService<Console.Infrastructure.Persistence.ConsoleDatabase>().OpenAsync(CancellationToken.None);
        await using (connection)
        {
            var rows = (await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys")).ToList();
            Assert.NotEmpty(rows);
            Assert.All(rows, xml => Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal));
            Assert.All(rows, xml => Assert.Contains("<encryptedKey", xml, StringComparison.Ordinal));
        }
    }
}

/// <summary>Two in-process consoles on one fresh PostgreSQL database, with a cluster a restore can be begun of.</summary>
internal sealed class Replicas : IAsyncDisposable
{
    private Replicas(string connectionString, ConsoleApp a, ConsoleApp b)
    {
        ConnectionString = connectionString;
        A = a;
        B = b;
    }

    public string ConnectionString { get; }

    public ConsoleApp A { get; }

    public ConsoleApp B { get; }

    public static async Task<Replicas> StartAsync(PostgresServer postgres)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var settings = TestTokens.Settings();
        settings["Console:Database:Provider"] = "postgres";
        settings["Console:Database:ConnectionString"] = connectionString;
        settings["Console:Clusters:0:Name"] = "up";
        settings["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:9";
        settings["Console:Clusters:0:Members:0:Name"] = "m1";
        settings["Console:Clusters:0:Members:0:PeerUrl"] = "http://127.0.0.1:10";
        settings["Console:Clusters:0:Members:0:DataDir"] = "/var/lib/etcd";
        settings["Console:Clusters:0:Members:0:Control"] = "Manual";
        var a = ConsoleApp.Start(settings);
        try
        {
            return new Replicas(connectionString, a, ConsoleApp.Start(settings));
        }
        catch
        {
            await a.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
