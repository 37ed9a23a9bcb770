using CalWebhookFunctions.Http;
using Microsoft.AspNetCore.Http;
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
    public IResult Page(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console")] HttpRequest request) =>
        // With a trailing slash the page's relative links would point one folder too deep.
        request.Path.Value?.EndsWith('/') == true
            ? TypedResults.Redirect("../console")
            : new ConsoleFileResult(assets.Page);

    [Function("ConsoleAsset")]
    public IResult Asset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{asset}")] HttpRequest request,
        string asset) =>
        assets.Find(asset) is { } file
            ? new ConsoleFileResult(file)
            : new NotFound(string.Join(", ", assets.AssetNames));

    private sealed class NotFound(string known) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ConsoleHeaders.Apply(httpContext.Response);
            return ApiResults.Error(StatusCodes.Status404NotFound, "asset_not_found",
                $"The console has no such file. Its files: {known}.").ExecuteAsync(httpContext);
        }
    }
}
