using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Operations;
using Json.Schema;

namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The served OpenAPI document (the same embedded bytes <c>GET /api/openapi.json</c> answers) as a contract real answers
/// must keep. Its schemas are JSON Schema 2020-12 (OpenAPI 3.1), evaluated by JsonSchema.Net with the whole document
/// registered, so <c>$ref</c>s into <c>#/components</c> resolve; <c>format</c> is asserted, not just annotated.
/// </summary>
public static class OpenApiContract
{
    /// <summary>The URI the document is registered under (never fetched).</summary>
    public static readonly Uri DocumentUri = new("https://calwebhookfunctions.invalid/api/openapi.json");

    private static readonly Lazy<JsonDocument> Parsed = new(() => JsonDocument.Parse(OpenApiDocumentFile.Bytes));
    private static readonly Lazy<BuildOptions> Build = new(() =>
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        options.SchemaRegistry.Register(DocumentUri, new JsonElementBaseDocument(Document, DocumentUri));
        return options;
    });
    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new(StringComparer.Ordinal);

    public static JsonElement Document => Parsed.Value.RootElement;

    /// <summary>The HTTP methods an OpenAPI path item may hold.</summary>
    public static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    /// <summary>Every documented operation: (upper-case method, path template, operation).</summary>
    public static IEnumerable<(string Method, string Path, JsonElement Operation)> Operations() =>
        from path in Document.GetProperty("paths").EnumerateObject()
        from item in path.Value.EnumerateObject()
        where Methods.Contains(item.Name, StringComparer.Ordinal)
        select (item.Name.ToUpperInvariant(), path.Name, item.Value);

    /// <summary>
    /// Asserts that <paramref name="response"/> is an answer the document allows for the operation
    /// (<paramref name="method"/>, <paramref name="pathTemplate"/> as documented, e.g. <c>/api/connections/{connectionId}</c>):
    /// its status code is documented, its required headers are present, and its body is empty when the answer documents
    /// none, else of a documented media type and, for JSON, valid against the documented schema. Fails with the
    /// validator's messages. Returns the body for further assertions.
    /// </summary>
    public static async Task<byte[]> AssertAnswerAsync(HttpResponseMessage response, string method, string pathTemplate)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsByteArrayAsync();
        var where = $"{method.ToUpperInvariant()} {pathTemplate}";
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var operationPointer = $"/paths/{Escape(pathTemplate)}/{method.ToLowerInvariant()}";
        if (!TryResolve(operationPointer, out var operation, out _))
        {
            Assert.Fail($"The OpenAPI document has no operation {where}.");
        }
        var responses = operation.GetProperty("responses");
        if (!responses.TryGetProperty(status, out _))
        {
            Assert.Fail($"{where} answered {status}, which the OpenAPI document does not list (it lists {string.Join(", ", responses.EnumerateObject().Select(r => r.Name))}). Body: {Preview(body)}");
        }
        TryResolve($"{operationPointer}/responses/{status}", out var answer, out var answerPointer);

        if (answer.TryGetProperty("headers", out var headers))
        {
            foreach (var header in headers.EnumerateObject())
            {
                var required = header.Value.TryGetProperty("required", out var r) && r.GetBoolean();
                Assert.False(required && !HasHeader(response, header.Name), $"{where} answered {status} without the documented header {header.Name}.");
            }
        }

        if (!answer.TryGetProperty("content", out var content))
        {
            Assert.True(body.Length == 0, $"{where} answered {status} with a body, but the document says it has none: {Preview(body)}");
            return body;
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var documented = content.EnumerateObject().Select(c => c.Name).ToList();
        var match = documented.FirstOrDefault(d => Matches(d, mediaType));
        Assert.True(match is not null, $"{where} answered {status} as '{mediaType}', but the document lists only {string.Join(", ", documented)}.");
        if (mediaType is "application/json" && content.GetProperty(match).TryGetProperty("schema", out _))
        {
            AssertValid(body, $"{answerPointer}/content/{Escape(match)}/schema", $"{where} {status}");
        }
        return body;
    }

    /// <summary>
    /// Asserts <paramref name="response"/> has the <paramref name="expected"/> status (and, for an error, the
    /// <paramref name="error"/> code), then that the document allows it (<see cref="AssertAnswerAsync(HttpResponseMessage, string, string)"/>).
    /// Returns the JSON body, or <c>default</c> when the answer has none (or is not JSON).
    /// </summary>
    public static async Task<JsonElement> AssertAnswerAsync(HttpResponseMessage response, string method, string pathTemplate,
        System.Net.HttpStatusCode expected, string? error = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        await response.Content.LoadIntoBufferAsync();
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {pathTemplate}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        var body = await AssertAnswerAsync(response, method, pathTemplate);
        var json = body.Length == 0 || response.Content.Headers.ContentType?.MediaType != "application/json"
            ? default
            : JsonDocument.Parse(body).RootElement.Clone();
        if (error is not null)
        {
            Assert.Equal(error, json.GetProperty("error").GetString());
        }
        return json;
    }

    /// <summary>Sends, then <see cref="AssertAnswerAsync(HttpResponseMessage, string, string, System.Net.HttpStatusCode, string?)"/> on the answer, disposed after.</summary>
    public static async Task<JsonElement> AnswerAsync(Task<HttpResponseMessage> sending, string method, string pathTemplate,
        System.Net.HttpStatusCode expected, string? error = null)
    {
        ArgumentNullException.ThrowIfNull(sending);
        using var response = await sending;
        return await AssertAnswerAsync(response, method, pathTemplate, expected, error);
    }

    /// <summary>Asserts <paramref name="json"/> is valid against the schema at the JSON pointer <paramref name="location"/> in the document.</summary>
    public static void AssertValid(byte[] json, string location, string what)
    {
        JsonDocument instance;
        try
        {
            instance = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            Assert.Fail($"{what}: the body is not JSON ({ex.Message}): {Preview(json)}");
            return;
        }
        using (instance)
        {
            var schema = Schemas.GetOrAdd(location, p => JsonSchema.FromText(
                $$"""{"$ref":"{{DocumentUri}}#{{p}}"}""", Build.Value, new Uri(DocumentUri, "contract/" + Guid.NewGuid().ToString("N"))));
            var results = schema.Evaluate(instance.RootElement,
                new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            if (!results.IsValid)
            {
                Assert.Fail($"{what}: the body does not match the OpenAPI document's schema ({location}):\n{Messages(results)}\nBody: {Preview(json)}");
            }
        }
    }

    /// <summary>The validator's error messages, one per line, each with where in the body and in the schema.</summary>
    public static string Messages(EvaluationResults results)
    {
        var lines = new StringBuilder();
        foreach (var detail in (results.Details ?? []).Prepend(results))
        {
            foreach (var (keyword, message) in detail.Errors ?? new Dictionary<string, string>())
            {
                lines.Append("  at ").Append(detail.InstanceLocation).Append(" (").Append(detail.EvaluationPath).Append(") ")
                    .Append(keyword).Append(": ").Append(message).Append('\n');
            }
        }
        return lines.Length == 0 ? "  (no messages)" : lines.ToString();
    }

    /// <summary>
    /// The element at a JSON pointer (<paramref name="location"/>) into the document, following a <c>$ref</c> (to <c>#/components/…</c>) where it
    /// stands; <paramref name="resolvedPointer"/> is where the element really is.
    /// </summary>
    public static bool TryResolve(string location, out JsonElement element, out string resolvedPointer)
    {
        element = Document;
        resolvedPointer = location;
        foreach (var token in location.Split('/').Skip(1).Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(token, out element))
            {
                return false;
            }
        }
        if (element.TryGetProperty("$ref", out var reference) && reference.GetString() is ['#', .. var target])
        {
            return TryResolve(target, out element, out resolvedPointer);
        }
        return true;
    }

    /// <summary>A JSON-pointer token for a name (<c>~</c> and <c>/</c> escaped).</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static bool Matches(string documented, string? actual) =>
        documented == "*/*"
        || string.Equals(documented, actual, StringComparison.OrdinalIgnoreCase)
        || (documented.EndsWith("/*", StringComparison.Ordinal) && actual is not null
            && actual.StartsWith(documented[..^1], StringComparison.OrdinalIgnoreCase));

    private static bool HasHeader(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.Contains(name) || response.Content.Headers.NonValidated.Contains(name);

    private static string Preview(byte[] body) => body.Length == 0 ? "(empty)" : Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 600)));
}
