using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using CalWebhookFunctions.Http;
using CalWebhookFunctions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CalWebhookFunctions.Operations;

/// <summary>Where a list page stops: the table keys to resume from, opaque to callers.</summary>
public sealed record ListPosition(
    [property: JsonPropertyName("p")] string? PartitionKey,
    [property: JsonPropertyName("r")] string? RowKey);

/// <summary>Reads one page of a table query.</summary>
public static class TablePage
{
    /// <summary>
    /// The first <paramref name="limit"/> rows of <paramref name="query"/> (asked with <c>maxPerPage: limit + 1</c>), and
    /// the position of the last of them when more follow; no rows when the table does not exist yet.
    /// </summary>
    public static async Task<(List<T> Rows, ListPosition? Next)> ReadAsync<T>(AsyncPageable<T> query, int limit, Func<T, ListPosition> positionOf)
        where T : ITableEntity
    {
        var rows = new List<T>(limit);
        try
        {
            await foreach (var row in query.ConfigureAwait(false))
            {
                if (rows.Count == limit)
                {
                    return (rows, positionOf(rows[^1]));
                }
                rows.Add(row);
            }
        }
        catch (RequestFailedException ex) when (StorageAccount.IsMissingResource(ex))
        {
            // Nothing stored yet.
        }
        return (rows, null);
    }
}

/// <summary>
/// One page of a list answer: <c>{"items":[…],"continuation":"…"|null}</c> (DESIGN.md "Operations API"). The
/// continuation is written even when null, whatever a serializer context's default ignore condition says.
/// </summary>
public sealed record ListPage<T>(
    [property: JsonPropertyName("items")] IReadOnlyList<T> Items,
    [property: JsonPropertyName("continuation"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Continuation);

/// <summary>
/// The query string every list route shares: only known parameters, each at most once; <c>limit</c> 1–200 (default 50);
/// times in ISO 8601 UTC; a <c>continuation</c> token that only the same list with the same filters accepts (a token
/// from another list or other filters is a 400, never a wrong page).
/// </summary>
public sealed partial class ListQuery
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$")]
    private static partial System.Text.RegularExpressions.Regex IsoTime();

    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    private readonly IQueryCollection _query;
    private readonly List<string> _problems = [];

    private ListQuery(IQueryCollection query) => _query = query;

    /// <summary>The problems found so far (the first becomes the 400's message).</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>
    /// Starts reading <paramref name="request"/>'s query; any parameter outside <paramref name="known"/> (plus
    /// <c>code</c>, the function key) is a problem.
    /// </summary>
    public static ListQuery Read(HttpRequest request, params string[] known)
    {
        var list = new ListQuery(request.Query);
        foreach (var (name, values) in request.Query)
        {
            if (name != "code" && !known.Contains(name, StringComparer.Ordinal))
            {
                list._problems.Add($"Unknown parameter '{name}'. Known: {string.Join(", ", known)}.");
            }
            else if (values.Count > 1)
            {
                list._problems.Add($"'{name}' is given more than once.");
            }
        }
        return list;
    }

    /// <summary>The value of a parameter, or null when absent or empty.</summary>
    public string? Text(string name) => _query.TryGetValue(name, out var values) && !string.IsNullOrEmpty(values[0]) ? values[0] : null;

    /// <summary>A parameter that must be one of <paramref name="allowed"/>.</summary>
    public string? OneOf(string name, IReadOnlyCollection<string> allowed)
    {
        var value = Text(name);
        if (value is not null && !allowed.Contains(value))
        {
            _problems.Add($"'{name}' must be one of {string.Join(", ", allowed)}.");
            return null;
        }
        return value;
    }

    /// <summary>An ISO 8601 time with an offset (e.g. <c>2026-12-01T10:00:00Z</c>), as UTC.</summary>
    public DateTimeOffset? Time(string name)
    {
        var value = Text(name);
        if (value is null)
        {
            return null;
        }
        if (!TryParseTime(value, out var time))
        {
            _problems.Add($"'{name}' must be an ISO 8601 time such as 2026-12-01T10:00:00Z.");
            return null;
        }
        return time;
    }

    /// <summary>
    /// Reads an ISO 8601 date and time (<c>2026-12-01T10:00:00Z</c>, optional seconds and fraction, <c>Z</c> or an offset;
    /// none means UTC), as UTC. Other forms the framework would parse (RFC 1123, local formats) are refused.
    /// </summary>
    public static bool TryParseTime(string value, out DateTimeOffset time)
    {
        time = default;
        return IsoTime().IsMatch(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    /// <summary><c>limit</c>: 1–<see cref="MaxLimit"/>, default <see cref="DefaultLimit"/>.</summary>
    public int Limit()
    {
        var value = Text("limit");
        if (value is null)
        {
            return DefaultLimit;
        }
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
        {
            _problems.Add($"'limit' must be a whole number from 1 to {MaxLimit}.");
            return DefaultLimit;
        }
        return limit;
    }

    /// <summary>
    /// The position a <c>continuation</c> token holds, checked against <paramref name="scope"/> (the list's name and its
    /// normalised filters); null when there is none. A token made for another scope, or not made here, is a problem.
    /// </summary>
    public ListPosition? Continuation(string scope)
    {
        var token = Text("continuation");
        if (token is null)
        {
            return null;
        }
        if (ContinuationToken.TryOpen(token, scope, out var position))
        {
            return position;
        }
        _problems.Add("'continuation' is not a token this list gave for these filters; start again without it.");
        return null;
    }

    /// <summary>The 400 for the first problem, or null when the query is fine.</summary>
    public BadRequest<ErrorBody>? Error() => _problems.Count == 0 ? null : ApiResults.BadRequest("invalid_query", _problems[0]);
}

/// <summary>
/// A continuation token: base64url of <c>{"s":…,"p":…,"r":…}</c> where <c>s</c> is a hash of the list's scope, so a
/// token only resumes the list (and filters) it came from. Not a secret: it carries table keys, no data.
/// </summary>
public static class ContinuationToken
{
    private const int MaxTokenLength = 2048;

    public static string? Issue(string scope, ListPosition? next) =>
        next is null ? null : Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(
            new Envelope(ScopeHash(scope), next.PartitionKey, next.RowKey), OperationsJson.Default.Envelope));

    public static bool TryOpen(string token, string scope, out ListPosition? position)
    {
        position = null;
        try
        {
            var envelope = token.Length > MaxTokenLength ? null : JsonSerializer.Deserialize(Base64Url.DecodeFromChars(token), OperationsJson.Default.Envelope);
            if (envelope is not null && envelope.Scope == ScopeHash(scope) && (envelope.PartitionKey ?? envelope.RowKey) is not null)
            {
                position = new ListPosition(envelope.PartitionKey, envelope.RowKey);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            // Not base64url of an envelope: not a token this app gave.
        }
        return position is not null;
    }

    private static string ScopeHash(string scope) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope)).AsSpan(0, 8));

    internal sealed record Envelope(
        [property: JsonPropertyName("s")] string Scope,
        [property: JsonPropertyName("p")] string? PartitionKey,
        [property: JsonPropertyName("r")] string? RowKey);
}
