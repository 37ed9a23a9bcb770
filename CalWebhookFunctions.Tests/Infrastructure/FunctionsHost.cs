using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// A stand-in for the Functions host's HTTP side, since Core Tools cannot run here. Two real Kestrel servers on
/// 127.0.0.1, as on the real host (functions-host.md):
/// <list type="bullet">
/// <item>the <em>host</em>, which clients call: routes, methods and auth levels from the generated functions.metadata
/// (prefix <c>api</c>); function-level routes need <see cref="FunctionKey"/> in <c>x-functions-key</c> or
/// <c>?code=</c>, as in Azure. Its Kestrel decodes the path (every escape but <c>%2F</c>) and its proxy hop
/// re-encodes it escaping every <c>%</c> again (<see cref="ProxyPath"/>); the query string is passed exactly as sent.
/// The hop adds <c>X-Original-Proto</c>, <c>X-Original-Host</c>, <c>X-Original-For</c> and <c>x-ms-invocation-id</c>.</item>
/// <item>the <em>worker</em>, which ASP.NET Core routing serves as the worker's integration does and which invokes the
/// function classes with the app's services.</item>
/// </list>
/// The function's <see cref="CancellationToken"/> is the invocation's, not <c>HttpContext.RequestAborted</c>: it is
/// cancelled when the host stops and when the client has gone (the host cancels the invocation and its proxy cancels
/// the forwarded request), so work a function must finish whatever the caller does cannot run on it.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    public const string FunctionKey = "test-function-key";

    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Host",
    };

    private readonly LoopbackServer _host;
    private readonly LoopbackServer _worker;
    private readonly HttpClient _proxy;
    private readonly CancellationTokenSource _stopping;
    private readonly Signal _cancelled;

    private FunctionsHost(LoopbackServer host, LoopbackServer worker, HttpClient proxy, CancellationTokenSource stopping, Signal cancelled)
    {
        _host = host;
        _worker = worker;
        _proxy = proxy;
        _stopping = stopping;
        _cancelled = cancelled;
    }

    /// <summary>Completes when the next invocation is cancelled (read it before causing the cancellation).</summary>
    public Task NextInvocationCancelled => _cancelled.Next;

    public Uri BaseAddress => _host.BaseAddress;

    public HttpClient CreateClient() => _host.CreateClient();

    /// <summary>
    /// Starts host and worker. <paramref name="workerRoutes"/> adds anonymous routes (under <c>/api/</c>) served by the
    /// worker, for tests of what a function would see (the echo of functions-host.md).
    /// </summary>
    public static async Task<FunctionsHost> StartAsync(IServiceProvider appServices,
        IReadOnlyDictionary<string, RequestDelegate>? workerRoutes = null)
    {
        var httpFunctions = FunctionsMetadata.Load().Where(f => f.TriggerType == "httpTrigger").ToList();
        var invocations = new ConcurrentDictionary<string, CancellationToken>(StringComparer.Ordinal);
        var stopping = new CancellationTokenSource();
        var cancelled = new Signal();
        var worker = await LoopbackServer.StartAsync(app =>
        {
            app.Use((context, next) =>
            {
                context.Items[InvocationKey] = InvocationToken(context, invocations);
                return next(context);
            });
            foreach (var function in httpFunctions)
            {
                var method = FunctionsMetadata.ResolveEntryPoint(function.EntryPoint);
                app.MapMethods("/api/" + function.Route, function.Methods,
                    context => InvokeAsync(context, function, method, appServices, InvocationOf(context)));
            }
            foreach (var (route, handler) in workerRoutes ?? new Dictionary<string, RequestDelegate>())
            {
                app.Map("/api/" + route, handler);
            }
        }, services =>
        {
            services.AddRouting();
            services.Configure<KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = null);
        });

        var proxy = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var host = await LoopbackServer.StartAsync(app =>
        {
            foreach (var function in httpFunctions)
            {
                app.MapMethods("/api/" + function.Route, function.Methods,
                    context => function.AuthLevel != "Anonymous" && !HasFunctionKey(context.Request)
                        ? Unauthorized(context)
                        : ForwardAsync(context, proxy, worker.BaseAddress, invocations, cancelled, stopping.Token));
            }
            foreach (var route in (workerRoutes ?? new Dictionary<string, RequestDelegate>()).Keys)
            {
                app.Map("/api/" + route, context => ForwardAsync(context, proxy, worker.BaseAddress, invocations, cancelled, stopping.Token));
            }
        }, services =>
        {
            services.AddRouting();
            // The host refuses bodies past 100 MB.
            services.Configure<KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = 100L * 1024 * 1024);
        });
        return new FunctionsHost(host, worker, proxy, stopping, cancelled);
    }

    /// <summary>
    /// The path the host's proxy sends on: the host's decoded path (Kestrel keeps <c>%2F</c> and decodes every other
    /// escape) with every character that may not stand raw in a path escaped again — <c>%</c> included.
    /// </summary>
    public static string ProxyPath(PathString decodedPath)
    {
        var path = decodedPath.Value ?? "";
        var builder = new System.Text.StringBuilder(path.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in path.EnumerateRunes())
        {
            var c = rune.Value;
            if (c < 128 && (char.IsAsciiLetterOrDigit((char)c) || "-._~!$&'()*+,;=:@/".Contains((char)c, StringComparison.Ordinal)))
            {
                builder.Append((char)c);
                continue;
            }
            var length = rune.EncodeToUtf8(utf8);
            foreach (var b in utf8[..length])
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    private static async Task ForwardAsync(HttpContext context, HttpClient proxy, Uri worker,
        ConcurrentDictionary<string, CancellationToken> invocations, Signal cancelled, CancellationToken hostStopping)
    {
        var invocationId = Guid.NewGuid().ToString();
        using var invocation = CancellationTokenSource.CreateLinkedTokenSource(hostStopping, context.RequestAborted);
        using var onCancel = invocation.Token.Register(cancelled.Fire);
        invocations[invocationId] = invocation.Token;
        try
        {
            var target = new Uri(worker, ProxyPath(context.Request.Path) + context.Request.QueryString.Value);
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
            if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                forward.Content = new StreamContent(context.Request.Body);
            }
            foreach (var (name, values) in context.Request.Headers)
            {
                if (!HopHeaders.Contains(name) && !forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                {
                    forward.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }
            }
            forward.Headers.TryAddWithoutValidation("X-Original-Proto", context.Request.Scheme);
            forward.Headers.TryAddWithoutValidation("X-Original-Host", context.Request.Host.Value);
            forward.Headers.TryAddWithoutValidation("X-Original-For", $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}");
            forward.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);

            // The proxy cancels the forwarded request once the client has gone.
            using var answer = await proxy.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)answer.StatusCode;
            foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
            {
                if (!HopHeaders.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }
            await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // ForwarderError: RequestCanceled — the client is gone; nobody reads an answer.
        }
        finally
        {
            invocations.TryRemove(invocationId, out _);
        }
    }

    private const string InvocationKey = "FunctionsHost.Invocation";

    /// <summary>A task completed by the next <see cref="Fire"/>.</summary>
    private sealed class Signal
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public void Fire() =>
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>The invocation's cancellation token of a request on the worker (what a function's token parameter receives).</summary>
    public static CancellationToken InvocationOf(HttpContext workerContext) => (CancellationToken)workerContext.Items[InvocationKey]!;

    private static CancellationToken InvocationToken(HttpContext context, ConcurrentDictionary<string, CancellationToken> invocations) =>
        invocations.TryGetValue(context.Request.Headers["x-ms-invocation-id"].ToString(), out var token)
            ? token
            : throw new InvalidOperationException("A request reached the worker without passing the host.");

    private static Task Unauthorized(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    }

    private static async Task InvokeAsync(HttpContext context, FunctionDefinition function, MethodInfo method, IServiceProvider appServices,
        CancellationToken invocation)
    {
        await using var scope = appServices.CreateAsyncScope();
        var instance = ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p => Bind(p, context, invocation)).ToArray();
        var returned = method.Invoke(instance, arguments);
        var result = returned switch
        {
            IResult plain => plain,
            Task task => await ResultOfAsync(task),
            _ => null,
        } ?? throw new InvalidOperationException($"{function.Name} must return an IResult or a Task of one.");
        // As in the worker, the result runs with the app's services (its HTTP JSON options among them).
        context.RequestServices = scope.ServiceProvider;
        await result.ExecuteAsync(context);
    }

    /// <summary>The result of a <c>Task&lt;T&gt;</c> (T an <see cref="IResult"/>, e.g. <c>Results&lt;Ok&lt;X&gt;, NotFound&lt;Y&gt;&gt;</c>), as the worker unwraps it.</summary>
    private static async Task<IResult?> ResultOfAsync(Task task)
    {
        await task;
        return task.GetType().GetProperty(nameof(Task<object>.Result))?.GetValue(task) as IResult;
    }

    private static object? Bind(ParameterInfo parameter, HttpContext context, CancellationToken invocation)
    {
        if (parameter.ParameterType == typeof(HttpRequest))
        {
            return context.Request;
        }
        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return invocation;
        }
        if (parameter.ParameterType == typeof(string) && context.GetRouteValue(parameter.Name!) is string routeValue)
        {
            return routeValue;
        }
        throw new InvalidOperationException($"The test host cannot bind parameter '{parameter.Name}' of type {parameter.ParameterType}.");
    }

    private static bool HasFunctionKey(HttpRequest request) =>
        request.Headers["x-functions-key"] == FunctionKey || request.Query["code"] == FunctionKey;

    public async ValueTask DisposeAsync()
    {
        // The host stops: every running invocation is cancelled.
        await _stopping.CancelAsync();
        await _host.DisposeAsync();
        await _worker.DisposeAsync();
        _proxy.Dispose();
        _stopping.Dispose();
    }
}
