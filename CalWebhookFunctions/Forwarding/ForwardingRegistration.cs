using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

public static class ForwardingRegistration
{
    public static IServiceCollection AddForwarding(this IServiceCollection services)
    {
        services.AddSingleton(sp => new ForwardEnvelope(sp.GetRequiredService<IOptions<CalComOptions>>().Value.ProviderConfigKey));
        services.AddSingleton<OutboundSigner>();
        services.AddSingleton<DeliveryPolicy>();
        services.AddSingleton<DeliveryLedger>();
        services.AddSingleton<Connections.ConnectionSnapshot>();
        services.AddSingleton<DeadLetterReplayer>();
        services.AddSingleton(StorageRetryPolicy.Default);
        services.AddSingleton<ForwardSender>();
        services.AddSingleton<ForwardSettlement>();
        services.AddSingleton<WebhookForwarder>();
        services.AddHostedService<DeliveryLedgerSweeper>();
        services.AddSingleton<DeliveryMarks>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryMarks>());
        services.AddHttpClient(WebhookForwarder.HttpClientName)
            .ConfigureHttpClient(client =>
            {
                // The forwarder's own per-attempt timeout (Forwarding__TimeoutSeconds) applies instead.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("CalWebhookFunctions/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A 3xx is an answer (dead-lettered), never followed: a redirect must not carry signed events elsewhere.
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            })
            // The default HttpClient logging writes request URLs, which may carry a token in their query.
            .RemoveAllLoggers();
        return services;
    }
}
