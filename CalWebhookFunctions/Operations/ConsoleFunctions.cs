using CalWebhookFunctions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// <c>GET /api/console</c> (the operator console's page) and <c>GET /api/console/{asset}</c> (its style sheet and
/// modules). Anonymous: the page holds no secret and no data; its data comes from the function-key routes, called with
/// the key the operator types in.
/// </summary>
public sealed class ConsoleFunctions(ConsoleAssets assets)
{
    [Function("ConsolePage")]
    public Results<RedirectHttpResult, ConsoleFileResult> Page(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console")] HttpRequest request) =>
        // With a trailing slash the page's relative links would point one folder too deep.
        request.Path.Value?.EndsWith('/') == true
            ? TypedResults.Redirect("../console")
            : new ConsoleFileResult(assets.Page);

    [Function("ConsoleAsset")]
    public Results<ConsoleFileResult, ConsoleAssetNotFound> Asset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{asset}")] HttpRequest request,
        string asset) =>
        assets.Find(asset) is { } file
            ? new ConsoleFileResult(file)
            : new ConsoleAssetNotFound(string.Join(", ", assets.AssetNames));
}

/// <summary>The 404 of a file the console does not have: the error body, with the console's headers.</summary>
public sealed class ConsoleAssetNotFound(string known) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ConsoleHeaders.Apply(httpContext.Response);
        return ApiResults.NotFound("asset_not_found", $"The console has no such file. Its files: {known}.").ExecuteAsync(httpContext);
    }
}
