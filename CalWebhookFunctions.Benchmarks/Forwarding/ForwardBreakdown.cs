using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using CalWebhookFunctions.Benchmarks.Infrastructure;
using CalWebhookFunctions.Connections;
using CalWebhookFunctions.Forwarding;
using CalWebhookFunctions.Operations;
using CalWebhookFunctions.Ingest;
using CalWebhookFunctions.Storage;

namespace CalWebhookFunctions.Benchmarks.Forwarding;

/// <summary>
/// <c>-- breakdown</c>: where one forward's time goes, at concurrency 1. Takes each step of the forward path with the
/// app's own components (ledger, connection store, envelope, signer) one event after another over the same Azurite and
/// receiver as <see cref="ForwardPathBenchmarks"/>, and prints the mean time of each step. The storage round trips
/// are what separate the forward path from its floor; the app's own CPU work is the rest.
/// </summary>
public static class ForwardBreakdown
{
    private const int Events = 300;

    public static async Task<int> RunAsync()
    {
        await using var relay = await RelayUnderTest.StartAsync();
        var template = RelayUnderTest.Template(2 * 1024);
        var queue = relay.Queues.GetQueueClient("breakdown");
        await queue.CreateIfNotExistsAsync();
        var ledger = relay.Get<DeliveryLedger>();
        var connections = relay.Get<ConnectionStore>();
        var envelopes = relay.Get<ForwardEnvelope>();
        var signer = relay.Get<OutboundSigner>();
        var http = relay.Get<IHttpClientFactory>().CreateClient(WebhookForwarder.HttpClientName);

        var steps = new Dictionary<string, TimeSpan>();
        void Add(string step, TimeSpan time) => steps[step] = steps.GetValueOrDefault(step) + time;

        for (var round = 0; round < 2; round++)
        {
            // Round 0 warms up (JIT, connections, tables); round 1 is measured.
            steps.Clear();
            await QueueTriggerLoop.FillAsync(queue,
                [.. Enumerable.Range(0, Events).Select(_ => PendingWebhooks.Serialize(RelayUnderTest.Event(relay.UniqueBody(template))))]);
            var handled = 0;
            while (handled < Events)
            {
                var clock = Stopwatch.StartNew();
                var batch = (await queue.ReceiveMessagesAsync(QueueTriggerLoop.BatchSize, TimeSpan.FromMinutes(10))).Value;
                Add("dequeue (a batch of 16, per event)", clock.Elapsed);
                foreach (var raw in batch)
                {
                    clock.Restart();
                    var message = PendingWebhooks.Deserialize(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Convert.FromBase64String(raw.MessageText))));
                    var body = message.Body!;
                    var webhookId = OutboundSigner.WebhookId(message.ConnectionId, body);
                    Add("decode, parse message, webhook-id (CPU)", clock.Elapsed);

                    clock.Restart();
                    var claim = await ledger.TryClaimAsync(LedgerKey.Of(message, webhookId, body), message.EventId, message.ConnectionId, 1, TimeSpan.FromMinutes(1),
                        CancellationToken.None);
                    Add("claim the webhook-id (table insert)", clock.Elapsed);

                    clock.Restart();
                    var connection = await connections.FindAsync(message.ConnectionId!);
                    Add("match the connection (table read)", clock.Elapsed);

                    clock.Restart();
                    var isJson = ConnectionIdResolver.TryReadJsonFields(body, out _, out _);
                    var envelope = envelopes.Write(connection?.ConnectionId, body, isJson);
                    var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                    var standard = signer.StandardSignature(webhookId, timestamp, envelope);
                    var nango = signer.NangoSignature(envelope);
                    Add("JSON check, envelope, two signatures (CPU)", clock.Elapsed);

                    clock.Restart();
                    using (var request = new HttpRequestMessage(HttpMethod.Post, relay.ReceiverUrl) { Content = new ByteArrayContent(envelope) })
                    {
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                        request.Headers.Add(OutboundSigner.WebhookIdHeader, webhookId);
                        request.Headers.Add(OutboundSigner.WebhookTimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
                        request.Headers.Add(OutboundSigner.WebhookSignatureHeader, standard);
                        request.Headers.Add(OutboundSigner.NangoSignatureHeader, nango);
                        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                        response.EnsureSuccessStatusCode();
                    }
                    Add("POST to the receiver", clock.Elapsed);

                    clock.Restart();
                    await ledger.MarkDeliveredAsync(claim, message.EventId, message.ConnectionId, 200, 1, blobEvent: null, CancellationToken.None);
                    Add("mark delivered (table upsert)", clock.Elapsed);

                    clock.Restart();
                    await queue.DeleteMessageAsync(raw.MessageId, raw.PopReceipt);
                    Add("delete the message", clock.Elapsed);
                    handled++;
                }
            }
        }

        // The claim and the read together, as the forwarder now makes them.
        var together = TimeSpan.Zero;
        for (var i = 0; i < Events; i++)
        {
            var id = new LedgerKey(DeliveryLogKeys.Partition(DateTimeOffset.UtcNow),
                OutboundSigner.WebhookId(RelayUnderTest.ConnectionId, relay.UniqueBody(template)));
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(
                ledger.TryClaimAsync(id, "e" + i.ToString(CultureInfo.InvariantCulture), RelayUnderTest.ConnectionId, 1, TimeSpan.FromMinutes(1),
                    CancellationToken.None),
                connections.FindAsync(RelayUnderTest.ConnectionId));
            together += clock.Elapsed;
        }

        Console.WriteLine();
        Console.WriteLine("| Step of one forward (concurrency 1, 2 KiB) | Mean | Share |");
        Console.WriteLine("|---|---:|---:|");
        var total = steps.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        foreach (var (step, time) in steps)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {step} | {time.TotalMicroseconds / Events:0} µs | {time / total:P0} |"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **sum** | **{total.TotalMicroseconds / Events:0} µs** | |"));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"claim and connection read started together (as WebhookForwarder does): {together.TotalMicroseconds / Events:0} µs per event"));
        return 0;
    }
}
