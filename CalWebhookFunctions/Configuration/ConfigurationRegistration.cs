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
        where TValidator : class, IValidateOptions<TOptions>, new()
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new SettingNames<TOptions>(new TValidator(), section));
    }

    /// <summary>
    /// The generated validators name a property <c>TOptions.Key</c>; an operator sets it as the app setting
    /// <c>Section__Key</c>, so every failure is reworded to name that.
    /// </summary>
    private sealed class SettingNames<TOptions>(IValidateOptions<TOptions> validator, string section) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options) =>
            validator.Validate(name, options) is { Failed: true } result
                ? ValidateOptionsResult.Fail(result.Failures.Select(f => f.Replace($"{typeof(TOptions).Name}.", $"{section}__", StringComparison.Ordinal)))
                : ValidateOptionsResult.Success;
    }
}
