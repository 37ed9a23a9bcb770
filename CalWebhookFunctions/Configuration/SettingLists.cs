namespace CalWebhookFunctions.Configuration;

/// <summary>Comma-separated setting values.</summary>
public static class SettingLists
{
    public static IReadOnlyList<string> Split(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
