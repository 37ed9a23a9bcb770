using CalWebhookFunctions;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<EventScopeMiddleware>();
builder.UseMiddleware<FinalDequeueMiddleware>();
builder.Services.AddCalWebhookFunctions(builder.Configuration);
builder.Build().Run();
