using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Operations;

public static class DeliveriesRegistration
{
    /// <summary>The delivery log: its writer (used by the forwarder), its reader (the routes) and its retention.</summary>
    public static IServiceCollection AddDeliveries(this IServiceCollection services)
    {
        services.AddSingleton<DeliveryLog>();
        services.AddSingleton<DeliveryLogReader>();
        services.AddSingleton<DeliveryLogRetention>();
        return services;
    }
}
