using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Forwarding;

public static class FailingEndpointsRegistration
{
    /// <summary>Issue 14's decision step before the claim: per-target slots, the shared breaker, held events, the gate.</summary>
    public static IServiceCollection AddFailingEndpoints(this IServiceCollection services)
    {
        services.AddSingleton<TargetSlots>();
        services.AddSingleton<HeldEvents>();
        services.AddSingleton<BreakerAlerts>();
        services.AddSingleton<TargetBreaker>();
        services.AddSingleton<DeliveryGate>();
        return services;
    }
}
