using System.Net;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using CalWebhookFunctions.Operations.Rejections;
using CalWebhookFunctions.Storage;
using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CalWebhookFunctions.Tests.Functional.Operations;

/// <summary><c>GET /api/rejections</c>: refused ingest requests, recorded in memory, written in bounded batches.</summary>
public class RejectionsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static HttpRequestMessage Unsigned(string query = "nangoConnectionId=conn-7", string contentType = "application/json") =>
        CalDeliveries.Post(CalDeliveries.BookingCreated(), secret: null, query, contentType, signatureHeader: new string('a', 64));

    private static async Task<int> RowCountAsync(TestApp app)
    {
        var count = 0;
        await foreach (var _ in app.Get<RejectionStore>().Table.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey ge {RejectionStore.PartitionPrefix} and PartitionKey lt {"rej`"}")))
        {
            count++;
        }
        return count;
    }

    [Fact]
    public async Task A_refused_request_is_listed_with_its_reason_claimed_connection_size_and_content_type_but_never_its_signature_or_body()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var functions = await FunctionsHost.StartAsync(app.Services);
        using var client = functions.CreateClient();
        using (var refused = await client.SendAsync(Unsigned(contentType: "application/x-www-form-urlencoded")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using (var empty = await client.SendAsync(CalDeliveries.Post([], TestApp.WebhookSecret)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        }
        await app.Get<RejectionStore>().FlushAsync(default);

        var (status, body) = await OperationsHttp.GetAsync(client, "api/rejections");

        Assert.Equal(HttpStatusCode.OK, status);
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal("empty_body", items[0].GetProperty("reason").GetString()); // newest first
        var mismatch = items[1];
        Assert.Equal("signature_mismatch", mismatch.GetProperty("reason").GetString());
        Assert.Equal("sample", mismatch.GetProperty("kind").GetString());
        Assert.Equal(1, mismatch.GetProperty("count").GetInt64());
        Assert.Equal("conn-7", mismatch.GetProperty("connectionId").GetString());
        Assert.Equal(CalDeliveries.BookingCreated().Length, mismatch.GetProperty("bodyBytes").GetInt64());
        Assert.Equal("application/x-www-form-urlencoded", mismatch.GetProperty("contentType").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("continuation").ValueKind);
        var raw = body.GetRawText();
        Assert.DoesNotContain(new string('a', 64), raw, StringComparison.Ordinal);
        Assert.DoesNotContain(CalDeliveries.AttendeeEmail, raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusing_a_request_makes_no_storage_call()
    {
        await azurite.ResetAsync();
        var calls = new CountingPolicy();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString, configureServices: services =>
            services.AddSingleton(StorageFaults.Account(azurite.ConnectionString, tables: calls, queues: calls, blobs: calls, rawQueues: calls)));
        await using var functions = await FunctionsHost.StartAsync(app.Services);
        using var client = functions.CreateClient();
        await app.Get<StorageInitializer>().Created;
        var before = calls.Count;

        for (var i = 0; i < 20; i++)
        {
            using var refused = await client.SendAsync(Unsigned());
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        Assert.Equal(before, calls.Count);
        var held = app.Get<RejectionRecorder>().TakePending();
        Assert.Equal(20, held.Samples.Count(s => s.Reason == "signature_mismatch") + held.Summaries.Sum(s => s.NotSampled));
    }

    [Fact]
    public async Task Five_thousand_refusals_write_a_bounded_number_of_rows_in_one_call_and_their_counts_stay_exact()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var functions = await FunctionsHost.StartAsync(app.Services);
        using var client = functions.CreateClient();
        var recorder = app.Get<RejectionRecorder>();
        // Through HTTP for a few, straight into the recorder for the bulk (the same call ReceiveCalWebhook makes).
        for (var i = 0; i < 10; i++)
        {
            using var refused = await client.SendAsync(Unsigned());
        }
        for (var i = 0; i < 4_990; i++)
        {
            recorder.Record(i % 2 == 0 ? "signature_mismatch" : "signature_missing", "conn-" + i, 100, "application/json");
        }

        var calls = await app.Get<RejectionStore>().FlushAsync(default);

        var rows = await RowCountAsync(app);
        Assert.InRange(calls, 1, 2); // one batch per day partition (two only if the minute straddles midnight)
        Assert.InRange(rows, 1, (RejectionRecorder.SamplesPerMinute + 2) * 2); // samples + one summary per reason, per minute
        var total = 0L;
        string? continuation = null;
        do
        {
            var (status, body) = await OperationsHttp.GetAsync(client, "api/rejections?limit=7" + (continuation is null ? "" : "&continuation=" + continuation));
            Assert.Equal(HttpStatusCode.OK, status);
            total += body.GetProperty("items").EnumerateArray().Sum(item => item.GetProperty("count").GetInt64());
            continuation = body.GetProperty("continuation").GetString();
        }
        while (continuation is not null);
        Assert.Equal(5_000, total);
        // Writing again changes nothing: summaries are overwritten with the same counts, samples are not repeated.
        await app.Get<RejectionStore>().FlushAsync(default);
        Assert.Equal(rows, await RowCountAsync(app));
    }

    [Fact]
    public async Task Bad_queries_are_refused_with_400()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var functions = await FunctionsHost.StartAsync(app.Services);
        using var client = functions.CreateClient();
        var foreign = CalWebhookFunctions.Operations.ContinuationToken.Issue("connections", new("a", null));

        foreach (var query in new[] { "limit=0", "limit=201", "since=yesterday", "since=Tue,%2001%20Dec%202026%2010:00:00%20GMT", "status=x",
                     "continuation=" + foreign, "continuation=not-a-token" })
        {
            Assert.Equal("invalid_query", OperationsHttp.AssertBadRequest(await OperationsHttp.GetAsync(client, "api/rejections?" + query)));
        }
    }

    [Fact]
    public async Task Since_leaves_out_older_refusals()
    {
        await azurite.ResetAsync();
        await using var app = await TestApp.StartAsync(azurite.ConnectionString);
        await using var functions = await FunctionsHost.StartAsync(app.Services);
        using var client = functions.CreateClient();
        using (var refused = await client.SendAsync(Unsigned()))
        {
        }
        await app.Get<RejectionStore>().FlushAsync(default);
        var later = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("yyyy-MM-ddTHH:mm:ssZ"));
        var earlier = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ"));

        var (_, none) = await OperationsHttp.GetAsync(client, "api/rejections?since=" + later);
        var (_, one) = await OperationsHttp.GetAsync(client, "api/rejections?since=" + earlier);

        Assert.Empty(none.GetProperty("items").EnumerateArray());
        Assert.Single(one.GetProperty("items").EnumerateArray());
    }

    private sealed class CountingPolicy : HttpPipelinePolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Interlocked.Increment(ref _count);
            await ProcessNextAsync(message, pipeline);
        }
    }
}
