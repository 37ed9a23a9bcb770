using System.Text.Json.Serialization;

namespace CalWebhookFunctions.Storage;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(QueuedWebhook))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
