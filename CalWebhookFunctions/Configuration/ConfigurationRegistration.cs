using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Configuration;

public static class ConfigurationRegistration
{
    /// <summary>Binds every settings section of the product contract and validates it when the app starts.</summary>
    public static IServiceCollection AddCalWebhookOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<CalComOptions, CalComOptionsValidator>(configuration, CalComOptions.Section);
        services.AddValidatedOptions<WebhookOptions, WebhookOptionsValidator>(configuration, WebhookOptions.Section);
        services.AddValidatedOptions<IngestOptions, IngestOptionsValidator>(configuration, IngestOptions.Section);
        services.AddValidatedOptions<ForwardingOptions, ForwardingOptionsValidator>(configuration, ForwardingOptions.Section);
        services.AddValidatedOptions<DeliveriesOptions, DeliveriesOptionsValidator>(configuration, DeliveriesOptions.Section);
        return services;
    }

    private static void AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }
}
