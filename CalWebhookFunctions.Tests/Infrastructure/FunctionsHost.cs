using System.Reflection;
using CalWebhookFunctions.Ingest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// A stand-in for the Functions host's HTTP side, since Core Tools cannot run here: a real Kestrel server on
/// 127.0.0.1 whose routes, methods and auth levels are read from the generated functions.metadata (prefix
/// <c>api</c>, as host.json says), and which invokes the function classes with the app's services. ASP.NET
/// Core routing is the same the host uses, so route values arrive as the host would pass them (with
/// <c>%2F</c> left encoded). Function-level routes need the key <see cref="FunctionKey"/> in
/// <c>x-functions-key</c> or <c>?code=</c>, as in Azure.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    public const string FunctionKey = "test-function-key";

    private readonly LoopbackServer _server;

    private FunctionsHost(LoopbackServer server) => _server = server;

    public Uri BaseAddress => _server.BaseAddress;

    public HttpClient CreateClient() => _server.CreateClient();

    public static async Task<FunctionsHost> StartAsync(IServiceProvider appServices)
    {
        var httpFunctions = FunctionsMetadata.Load().Where(f => f.TriggerType == "httpTrigger").ToList();
        var server = await LoopbackServer.StartAsync(app =>
        {
            foreach (var function in httpFunctions)
            {
                var method = FunctionsMetadata.ResolveEntryPoint(function.EntryPoint);
                app.MapMethods("/api/" + function.Route, function.Methods,
                    context => InvokeAsync(context, function, method, appServices));
            }
        }, services => services.AddRouting());
        return new FunctionsHost(server);
    }

    private static async Task InvokeAsync(HttpContext context, FunctionDefinition function, MethodInfo method, IServiceProvider appServices)
    {
        if (function.AuthLevel != "Anonymous" && !HasFunctionKey(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        await using var scope = appServices.CreateAsyncScope();
        var instance = ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p => Bind(p, context)).ToArray();
        var returned = method.Invoke(instance, arguments);
        var result = returned switch
        {
            Task<IResult> task => await task,
            IResult plain => plain,
            _ => throw new InvalidOperationException($"{function.Name} must return IResult or Task<IResult>."),
        };
        await result.ExecuteAsync(context);
    }

    private static object? Bind(ParameterInfo parameter, HttpContext context)
    {
        if (parameter.ParameterType == typeof(HttpRequest))
        {
            return context.Request;
        }
        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return context.RequestAborted;
        }
        if (parameter.ParameterType == typeof(string) && context.GetRouteValue(parameter.Name!) is string routeValue)
        {
            return routeValue;
        }
        throw new InvalidOperationException($"The test host cannot bind parameter '{parameter.Name}' of type {parameter.ParameterType}.");
    }

    private static bool HasFunctionKey(HttpRequest request) =>
        request.Headers["x-functions-key"] == FunctionKey || request.Query["code"] == FunctionKey;

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
