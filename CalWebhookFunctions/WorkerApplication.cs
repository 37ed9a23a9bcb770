using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

namespace CalWebhookFunctions;

/// <summary>
/// Everything Program.cs sets up on the worker's own builder: the ASP.NET Core integration, the worker middleware
/// (in this order; the queue middleware only for queue triggers) and the app's services. The tests build their app through this too, so the same registrations
/// apply to the functions they run.
/// </summary>
public static class WorkerApplication
{
    public static FunctionsApplicationBuilder ConfigureCalWebhookFunctions(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();
        builder.UseWhen<EventScopeMiddleware>(QueueTrigger.IsQueueTriggered);
        builder.UseWhen<FinalDequeueMiddleware>(QueueTrigger.IsQueueTriggered);
        builder.Services.AddCalWebhookFunctions(builder.Configuration);
        return builder;
    }
}
