using System.Text.Json.Serialization;
using CalWebhookFunctions.Operations.Alerts;
using CalWebhookFunctions.Subscriptions;

namespace CalWebhookFunctions.Operations;

/// <summary>
/// Every JSON the Operations capability reads or writes, source-generated with the serializer's defaults: its answers
/// (each property named by its attribute; <see cref="ConnectionBody"/> leaves nulls out by its own attributes), the
/// continuation token's envelope, the hourly stats counts and the alert messages.
/// </summary>
[JsonSerializable(typeof(ListPage<DeliveryItem>))]
[JsonSerializable(typeof(DeliveryDetail))]
[JsonSerializable(typeof(RedeliverAccepted))]
[JsonSerializable(typeof(ListPage<RejectionItem>))]
[JsonSerializable(typeof(ListPage<ConnectionBody>))]
[JsonSerializable(typeof(PauseBody))]
[JsonSerializable(typeof(StatsBody))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, long>))]
[JsonSerializable(typeof(ContinuationToken.Envelope))]
[JsonSerializable(typeof(AlertMessage))]
[JsonSerializable(typeof(AlertBody))]
internal sealed partial class OperationsJson : JsonSerializerContext;
