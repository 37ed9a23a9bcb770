using System.Reflection;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Tests.Infrastructure;
using Json.Schema;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace CalWebhookFunctions.Tests.Unit.Operations;

/// <summary>
/// The served OpenAPI document is well-formed OpenAPI 3.1 (read by OpenAPI.NET, its schemas by a JSON Schema 2020-12
/// meta-schema), and it cannot drift from the app: every HTTP function (found by reflection) is documented, with its
/// methods, its operation id and its auth, and every documented operation is a function.
/// </summary>
public class OpenApiDocumentTests
{
    [Fact]
    public void The_document_reads_as_OpenAPI_3_1_without_errors_and_passes_the_default_rules()
    {
        var settings = new OpenApiReaderSettings();
        var (document, diagnostic) = OpenApiDocument.Parse(Encoding.UTF8.GetString(OpenApiDocumentFile.Bytes), "json", settings);

        Assert.NotNull(document);
        Assert.NotNull(diagnostic);
        Assert.True(diagnostic.Errors.Count == 0, "Reading: " + string.Join("\n", diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, diagnostic.SpecificationVersion);
        var problems = document.Validate(ValidationRuleSet.GetDefaultRuleSet())?.ToList() ?? [];
        Assert.True(problems.Count == 0, "Rules: " + string.Join("\n", problems.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal("3.1.0", OpenApiContract.Document.GetProperty("openapi").GetString());
    }

    [Fact]
    public void Every_schema_in_the_document_is_valid_JSON_Schema_2020_12()
    {
        var schemas = SchemasIn(OpenApiContract.Document, "").ToList();
        Assert.NotEmpty(schemas);
        foreach (var (pointer, schema) in schemas)
        {
            var results = MetaSchemas.Draft202012.Evaluate(schema, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(results.IsValid, $"{pointer} is not a JSON Schema 2020-12 schema:\n{OpenApiContract.Messages(results)}");
        }
    }

    [Fact]
    public void Every_reference_in_the_document_resolves()
    {
        var references = ReferencesIn(OpenApiContract.Document).ToList();
        Assert.Contains("#/components/schemas/Error", references);
        foreach (var reference in references)
        {
            Assert.True(reference.StartsWith('#') && OpenApiContract.TryResolve(reference[1..], out _, out _), $"{reference} does not resolve.");
        }
    }

    private static IEnumerable<string> ReferencesIn(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name == "$ref" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : ReferencesIn(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(ReferencesIn),
        _ => [],
    };

    [Fact]
    public void Every_http_function_is_documented_with_its_method_operation_id_and_auth_and_nothing_else_is()
    {
        var functions = HttpFunctions().ToList();
        Assert.Contains(functions, f => f.Name == nameof(ReceiveCalWebhook));
        var documented = OpenApiContract.Operations().ToList();

        foreach (var function in functions)
        {
            foreach (var method in function.Methods)
            {
                var found = documented.Where(d => d.Method == method && d.Path == function.Path).ToList();
                Assert.True(found.Count == 1, $"{function.Name} ({method} {function.Path}) is not in the OpenAPI document.");
                var operation = found[0].Operation;
                Assert.Equal(function.Name, operation.GetProperty("operationId").GetString());
                Assert.True(function.Anonymous == IsAnonymous(operation),
                    $"{function.Name} is {(function.Anonymous ? "anonymous" : "function-key")} but the document says otherwise.");
            }
        }
        foreach (var (method, path, _) in documented)
        {
            Assert.True(functions.Any(f => f.Path == path && f.Methods.Contains(method)),
                $"The OpenAPI document has {method} {path}, which no function serves.");
        }
    }

    [Fact]
    public void Every_answer_is_described_and_every_error_answer_is_the_error_body_naming_its_codes()
    {
        foreach (var (method, path, operation) in OpenApiContract.Operations())
        {
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{method} {path} has no summary.");
            foreach (var answer in operation.GetProperty("responses").EnumerateObject())
            {
                var pointer = $"/paths/{OpenApiContract.Escape(path)}/{method.ToLowerInvariant()}/responses/{answer.Name}";
                Assert.True(OpenApiContract.TryResolve(pointer, out var resolved, out _), pointer);
                Assert.False(string.IsNullOrWhiteSpace(resolved.GetProperty("description").GetString()), $"{pointer} has no description.");
                var isFunctionKeyRefusal = answer.Name == "401" && !IsAnonymous(operation);
                if (answer.Name[0] is not ('4' or '5') || isFunctionKeyRefusal)
                {
                    continue;
                }
                if (method == "GET" && path == "/api/health")
                {
                    continue; // 503 "unhealthy" is the health body, not an error
                }
                var schema = resolved.GetProperty("content").GetProperty("application/json").GetProperty("schema");
                var allOf = schema.GetProperty("allOf").EnumerateArray().ToList();
                Assert.Equal("#/components/schemas/Error", allOf[0].GetProperty("$ref").GetString());
                var codes = allOf[1].GetProperty("properties").GetProperty("error").GetProperty("enum").EnumerateArray().ToList();
                Assert.NotEmpty(codes);
                foreach (var code in codes)
                {
                    Assert.Contains($"`{code.GetString()}`", resolved.GetProperty("description").GetString(), StringComparison.Ordinal);
                }
            }
        }
    }

    /// <summary>One HTTP function as the app declares it: name, route as an OpenAPI path, methods, auth.</summary>
    public sealed record HttpFunction(string Name, string Path, IReadOnlyList<string> Methods, bool Anonymous);

    /// <summary>Every [Function] of the app with an HttpTrigger, by reflection over the app's assembly.</summary>
    public static IEnumerable<HttpFunction> HttpFunctions() =>
        from type in typeof(ReceiveCalWebhook).Assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
        let function = method.GetCustomAttribute<FunctionAttribute>()
        where function is not null
        let trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).SingleOrDefault(a => a is not null)
        where trigger is not null
        select new HttpFunction(function.Name, "/api/" + OpenApiRoute(trigger.Route ?? function.Name),
            [.. (trigger.Methods ?? []).Select(m => m.ToUpperInvariant())], trigger.AuthLevel == AuthorizationLevel.Anonymous);

    /// <summary>A route template as an OpenAPI path: <c>{eventId:regex(…)}</c> and <c>{x?}</c> become <c>{eventId}</c>, <c>{x}</c>.</summary>
    public static string OpenApiRoute(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route, @"\{\*?([A-Za-z0-9_]+)[^}]*\}", "{$1}");

    private static bool IsAnonymous(JsonElement operation) =>
        operation.TryGetProperty("security", out var security) && security.GetArrayLength() == 0;

    /// <summary>Every schema object in the document: component schemas and every <c>schema</c> of a parameter, body or answer.</summary>
    private static IEnumerable<(string Pointer, JsonElement Schema)> SchemasIn(JsonElement element, string pointer)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                foreach (var found in SchemasIn(item, $"{pointer}/{i++}"))
                {
                    yield return found;
                }
            }
            yield break;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }
        foreach (var property in element.EnumerateObject())
        {
            var child = $"{pointer}/{OpenApiContract.Escape(property.Name)}";
            if (property.Name == "schema" || pointer == "/components/schemas")
            {
                yield return (child, property.Value);
            }
            else
            {
                foreach (var found in SchemasIn(property.Value, child))
                {
                    yield return found;
                }
            }
        }
    }
}
