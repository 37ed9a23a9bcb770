using System.Net;
using System.Text;
using System.Text.Json;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary>Calls of the operations routes with the function key, answers read as JSON.</summary>
internal static class OperationsHttp
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string pathAndQuery) =>
        await SendAsync(client, HttpMethod.Get, pathAndQuery, null);

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string pathAndQuery, string? body) =>
        await SendAsync(client, HttpMethod.Post, pathAndQuery, body);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient client, HttpMethod method, string pathAndQuery, string? body)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        request.Headers.Add("x-functions-key", FunctionsHost.FunctionKey);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Asserts a 400 with the error body the standards ask for, and returns its code.</summary>
    public static string AssertBadRequest((HttpStatusCode Status, JsonElement Body) answer)
    {
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.False(string.IsNullOrWhiteSpace(answer.Body.GetProperty("message").GetString()));
        return answer.Body.GetProperty("error").GetString()!;
    }
}
