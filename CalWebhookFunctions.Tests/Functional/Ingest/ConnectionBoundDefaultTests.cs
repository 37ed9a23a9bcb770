using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Ingest;

/// <summary>
/// Connection-bound secrets are the default (DESIGN.md "Connection-bound secrets"): with nothing configured, an event
/// naming a connection verifies only with that connection's derived secret, and the README's <c>openssl</c> line
/// computes exactly the secret the app derives.
/// </summary>
public class ConnectionBoundDefaultTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string ReadmeLinePrefix = "printf '%s' \"calwebhookfunctions/connection-secret/v1:";

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(IngestEnvironment env, HttpRequestMessage request)
    {
        using (request)
        using (var response = await env.Client.SendAsync(request))
        {
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }
    }

    [Fact]
    public async Task By_default_an_event_naming_another_connection_signed_with_the_shared_secret_is_refused_401()
    {
        // The option unset: the app's own default applies.
        await using var env = await IngestEnvironment.StartAsync(storage, new Dictionary<string, string?> { [TestApp.SharedSecretsKey] = null });
        var body = CalDeliveries.BookingCreated();

        // Connection A's Cal.com account knows the shared secret and signs an event that names connection B.
        var (forged, answer) = await SendAsync(env, CalDeliveries.Post(body, TestApp.WebhookSecret, "nangoConnectionId=customer-b"));

        Assert.Equal(HttpStatusCode.Unauthorized, forged);
        Assert.Equal("signature_mismatch", answer.GetProperty("error").GetString());
        Assert.Empty(await env.QueuedAsync());

        var (genuine, _) = await SendAsync(env, CalDeliveries.Post(body, WebhookSecrets.Derive(TestApp.WebhookSecret, "customer-b"),
            "nangoConnectionId=customer-b"));
        Assert.Equal(HttpStatusCode.OK, genuine);
        Assert.Equal("customer-b", Assert.Single(await env.QueuedAsync()).ConnectionId);
    }

    [Fact]
    public void The_readme_openssl_line_computes_the_apps_derived_secret()
    {
        var line = Assert.Single(File.ReadAllLines(RepoPaths.File("README.md")), l => l.StartsWith(ReadmeLinePrefix, StringComparison.Ordinal));
        var connectionId = line[ReadmeLinePrefix.Length..line.IndexOf('"', ReadmeLinePrefix.Length)];
        Assert.True(File.Exists("/usr/bin/openssl") || File.Exists("/bin/openssl"), "openssl is needed to run the README's line");
        const string Secret = "integration secret with spaces & ümlauts";

        var start = new ProcessStartInfo("bash", ["-c", line]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["CalCom__WebhookSecret"] = Secret;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, errors);
        Assert.Equal(WebhookSecrets.Derive(Secret, connectionId) + "\n", output);
    }
}
