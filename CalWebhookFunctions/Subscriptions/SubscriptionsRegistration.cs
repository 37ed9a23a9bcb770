using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Subscriptions;

public static class SubscriptionsRegistration
{
    /// <summary>The options name of the Cal.com client's standard resilience pipeline (tests shorten its delays).</summary>
    public const string ResilienceOptionsName = CalComApi.HttpClientName + "-standard";

    public static IServiceCollection AddSubscriptions(this IServiceCollection services)
    {
        services.AddHttpClient(CalComApi.HttpClientName)
            .ConfigureHttpClient((provider, client) =>
            {
                var baseUrl = provider.GetRequiredService<IOptions<CalComOptions>>().Value.ApiBaseUrl;
                client.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
                // The resilience pipeline's total timeout bounds each call; this only must not cut it short.
                client.Timeout = TimeSpan.FromMinutes(3);
            })
            // A redirect would carry the bearer credential elsewhere (and turn a POST into a GET): never follow one.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            // Header values (the bearer credential) are never written to logs, whatever the log level.
            .RedactLoggedHeaders(_ => true)
            .AddStandardResilienceHandler(options =>
            {
                // Retries 408, 429 (after Retry-After when Cal.com sends one), 5xx, network errors and attempt
                // timeouts, with jittered exponential backoff; any other 4xx is Cal.com's answer and is not retried.
                options.Retry.MaxRetryAttempts = 4;
                options.Retry.Delay = TimeSpan.FromSeconds(1);
                options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
                options.Retry.ShouldRetryAfterHeader = true;
                options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(15);
                options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(60);
                options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
            });
        services.AddSingleton<CalComApi>();
        services.AddSingleton<CleanupMessages>();
        services.AddSingleton<ConnectionLeases>();
        services.AddSingleton<ConnectionLifecycle>();
        services.AddSingleton<SubscriptionCleaner>();
        return services;
    }
}
