using System.Text;
using CalWebhookFunctions.Configuration;
using CalWebhookFunctions.Connections;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Tests.Unit.Ingest;

public class WebhookSecretsTests
{
    private static WebhookSecrets Secrets(bool bound) => new(Options.Create(new CalComOptions
    {
        WebhookSecret = "integration-secret",
        PreviousWebhookSecrets = " old-1 , ,old-2 ",
        ConnectionBoundSecrets = bound,
    }));

    [Fact]
    public void Derivation_matches_an_openssl_vector()
    {
        // printf '%s' 'calwebhookfunctions/connection-secret/v1:customer/42 #ü' | openssl dgst -sha256 -hmac 'integration-secret'
        Assert.Equal("6bb70c9639f523624bcae2666753f61fc7cfe3e7f823f706be6afe20309875c3",
            WebhookSecrets.Derive("integration-secret", "customer/42 #ü"));
    }

    [Fact]
    public void Shared_keys_are_the_current_then_the_previous_secrets()
    {
        var keys = Secrets(bound: false).KeysFor("any-connection");
        Assert.Equal(["integration-secret", "old-1", "old-2"], keys.Select(k => Encoding.UTF8.GetString(k)));
    }

    [Fact]
    public void Bound_keys_for_a_connection_are_derived_from_each_secret()
    {
        var keys = Secrets(bound: true).KeysFor("c-1");
        Assert.Equal(
            new[] { "integration-secret", "old-1", "old-2" }.Select(s => WebhookSecrets.Derive(s, "c-1")),
            keys.Select(k => Encoding.UTF8.GetString(k)));
    }

    [Fact]
    public void Bound_keys_without_a_connection_are_the_shared_secrets()
    {
        Assert.Equal(["integration-secret", "old-1", "old-2"], Secrets(bound: true).KeysFor(null).Select(k => Encoding.UTF8.GetString(k)));
    }

    [Fact]
    public void Subscription_secret_is_derived_only_when_bound()
    {
        Assert.Equal("integration-secret", Secrets(bound: false).SubscriptionSecretFor("c-1"));
        Assert.Equal(WebhookSecrets.Derive("integration-secret", "c-1"), Secrets(bound: true).SubscriptionSecretFor("c-1"));
    }

    [Fact]
    public void Different_connections_get_different_secrets()
    {
        Assert.NotEqual(WebhookSecrets.Derive("s", "a"), WebhookSecrets.Derive("s", "b"));
    }
}
