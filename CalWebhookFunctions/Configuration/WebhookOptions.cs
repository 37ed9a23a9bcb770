using System.ComponentModel.DataAnnotations;

namespace CalWebhookFunctions.Configuration;

/// <summary>Settings under <c>Webhook__*</c>: how Cal.com reaches this app.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhook";

    /// <summary>The public URL of ReceiveCalWebhook, used as the base of every subscriber URL. Required.</summary>
    [Required, AbsoluteHttpUrl]
    public string PublicUrl { get; set; } = "";
}
