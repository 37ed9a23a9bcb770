using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Forwarding;

public static class FailingEndpointsRegistration
{
    /// <summary>Issue 14: the decision step before the claim (the shared breaker, held events, the gate) and the per-target slots around the POST.</summary>
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
