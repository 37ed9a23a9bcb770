using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The app built exactly as Program.cs builds it: through the worker's own builder
/// (<c>FunctionsApplication.CreateBuilder</c>) with <see cref="WorkerApplication.ConfigureCalWebhookFunctions"/>, so the
/// worker's registrations, the middleware pipeline and the app's services are the real ones — over test settings, and
/// started so that start-up validation and the app's hosted services run. Only the hosted services that connect to a
/// Functions host (the worker's gRPC client) or serve HTTP (the ASP.NET Core integration's Kestrel) are left out: the
/// tests play the host themselves (<see cref="WorkerChannel"/>, <see cref="QueueHost"/>, <see cref="FunctionsHost"/>).
/// Every log line is captured for assertions.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string WebhookSecret = "test-integration-secret-7f3a";
    public const string PreviousSecret = "test-previous-secret-19bc";
    public const string SigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    public const string PublicUrl = "https://relay.example.test/api/webhooks/cal";
    public const string SharedSecretsKey = "CalCom:ConnectionBoundSecrets";

    private readonly IHost _host;

    private TestApp(IHost host, LogCapture logs)
    {
        _host = host;
        Logs = logs;
    }

    public IServiceProvider Services => _host.Services;

    public LogCapture Logs { get; }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>
    /// The settings every test starts from; a test overrides or removes (null) what it needs. Most tests sign deliveries
    /// that name a connection with the shared secret, so they opt out of connection-bound secrets explicitly; tests of
    /// the app's default remove that key (null). The per-target breaker is set out of reach (1,000 consecutive failures)
    /// so that tests of the retry schedule see every attempt; the breaker's tests set their own threshold.
    /// </summary>
    public static Dictionary<string, string?> DefaultSettings(string storageConnectionString) => new()
    {
        ["AzureWebJobsStorage"] = storageConnectionString,
        ["CalCom:WebhookSecret"] = WebhookSecret,
        ["CalCom:PreviousWebhookSecrets"] = PreviousSecret,
        [SharedSecretsKey] = "false",
        ["Webhook:PublicUrl"] = PublicUrl,
        ["Forwarding:Url"] = "http://127.0.0.1:9/not-used",
        ["Forwarding:SigningSecret"] = SigningSecret,
        [BreakerFailuresKey] = "1000",
    };

    public const string BreakerFailuresKey = "Forwarding:BreakerFailures";

    public static async Task<TestApp> StartAsync(string storageConnectionString,
        IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        var settings = DefaultSettings(storageConnectionString);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return await StartWithSettingsAsync(settings, configureServices);
    }

    public static async Task<TestApp> StartWithSettingsAsync(IDictionary<string, string?> settings,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(HostProvidedSettings);
        builder.Configuration.AddInMemoryCollection(settings.Where(s => s.Value is not null));
        var logs = new LogCapture();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
        builder.ConfigureCalWebhookFunctions();
        configureServices?.Invoke(builder.Services);
        RemoveHostConnections(builder.Services);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new TestApp(host, logs);
    }

    /// <summary>What the Functions host hands a worker it starts (its gRPC endpoint, never dialled here: the tests play the host).</summary>
    private static readonly Dictionary<string, string?> HostProvidedSettings = new()
    {
        ["Functions:Worker:HostEndpoint"] = "http://127.0.0.1:9",
        ["Functions:Worker:WorkerId"] = "test-worker",
        ["Functions:Worker:RequestId"] = "test-request",
        ["Functions:Worker:GrpcMaxMessageLength"] = "2147483647",
    };

    /// <summary>The hosted services that only make sense under a real Functions host: the worker's and ASP.NET Core's.</summary>
    private static void RemoveHostConnections(IServiceCollection services)
    {
        static bool FromHosting(Type? type) => type?.Assembly.GetName().Name is { } name
            && (name.StartsWith("Microsoft.Azure.Functions.Worker", StringComparison.Ordinal) || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        foreach (var descriptor in services.Where(d => d.ServiceType == typeof(IHostedService) && FromHosting(d.ImplementationType)).ToList())
        {
            services.Remove(descriptor);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>
/// Captures every log line, formatted, with its exception, so tests can assert what is (not) logged; and, in
/// <see cref="Entries"/>, each line's structured properties and the properties of the logging scopes it was written in.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<string> Lines => [.. _lines];

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public string AllText => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToList() : [];
            var structured = string.Join(' ', properties.Select(p => $"{p.Key}={p.Value}"));
            var message = formatter(state, exception);
            capture._lines.Enqueue($"{logLevel} {category}[{eventId.Id}] {message} | {structured} {exception}");

            var scopes = new List<KeyValuePair<string, object?>>();
            capture._scopes.ForEachScope((scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    list.AddRange(scopePairs);
                }
            }, scopes);
            capture._entries.Enqueue(new LogEntry(logLevel, category, eventId, message, properties, scopes, exception));
        }
    }
}

/// <summary>One captured log line: its structured properties and those of the scopes around it (outermost first).</summary>
public sealed record LogEntry(
    LogLevel Level,
    string Category,
    EventId EventId,
    string Message,
    IReadOnlyList<KeyValuePair<string, object?>> Properties,
    IReadOnlyList<KeyValuePair<string, object?>> Scopes,
    Exception? Exception)
{
    /// <summary>The value of a scope property around this line, or null.</summary>
    public object? Scope(string key) => Scopes.LastOrDefault(p => p.Key == key).Value;
}
