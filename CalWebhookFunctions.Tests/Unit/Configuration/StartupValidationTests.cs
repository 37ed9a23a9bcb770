using CalWebhookFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Tests.Unit.Configuration;

/// <summary>The app's own registrations, started: a missing or invalid setting stops it with a message naming the key.</summary>
public class StartupValidationTests
{
    private const string Storage = "UseDevelopmentStorage=true";

    private static async Task<Exception> StartFailureAsync(string key, string? value)
    {
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var app = await TestApp.StartAsync(Storage, new Dictionary<string, string?> { [key] = value });
        });
        Assert.NotNull(failure);
        return failure;
    }

    [Fact]
    public async Task Complete_settings_start()
    {
        await using var app = await TestApp.StartAsync(Storage);
        Assert.NotNull(app.Get<IOptions<CalWebhookFunctions.Configuration.ForwardingOptions>>().Value);
    }

    [Theory]
    [InlineData("CalCom:WebhookSecret", "CalCom__WebhookSecret")]
    [InlineData("Webhook:PublicUrl", "Webhook__PublicUrl")]
    [InlineData("Forwarding:Url", "Forwarding__Url")]
    [InlineData("Forwarding:SigningSecret", "Forwarding__SigningSecret")]
    public async Task Missing_required_setting_stops_the_app_naming_it(string key, string settingName)
    {
        var failure = await StartFailureAsync(key, null);
        var validation = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(validation.Failures, f => f.Contains(settingName, StringComparison.Ordinal) && f.Contains("required", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Missing_storage_connection_stops_the_app_naming_it()
    {
        var failure = await StartFailureAsync("AzureWebJobsStorage", null);
        Assert.Contains("AzureWebJobsStorage", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unusable_storage_connection_string_stops_the_app_naming_it()
    {
        var failure = await StartFailureAsync("AzureWebJobsStorage", "this is not a connection string");
        Assert.Contains("AzureWebJobsStorage", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Webhook:PublicUrl", "not a url", "Webhook__PublicUrl")]
    [InlineData("Webhook:PublicUrl", "ftp://example.com/hook", "Webhook__PublicUrl")]
    [InlineData("Forwarding:Url", "/relative/path", "Forwarding__Url")]
    [InlineData("CalCom:ApiBaseUrl", "api.cal.com", "CalCom__ApiBaseUrl")]
    [InlineData("Forwarding:RetrySchedule", "5s,soon", "Forwarding__RetrySchedule")]
    [InlineData("Forwarding:RetrySchedule", "8d", "Forwarding__RetrySchedule")]
    [InlineData("Forwarding:TimeoutSeconds", "0", "Forwarding__TimeoutSeconds")]
    [InlineData("Forwarding:BreakerFailures", "0", "Forwarding__BreakerFailures")]
    [InlineData("Forwarding:BreakerProbeSeconds", "3601", "Forwarding__BreakerProbeSeconds")]
    [InlineData("Forwarding:SigningSecret", "whsec_***not base64***", "Forwarding__SigningSecret")]
    [InlineData("Ingest:MaxBodyBytes", "0", "Ingest__MaxBodyBytes")]
    [InlineData("Deliveries:RetentionDays", "0", "Deliveries__RetentionDays")]
    [InlineData("Deliveries:RetentionDays", "-3", "Deliveries__RetentionDays")]
    [InlineData("CalCom:OrganizationId", "acme", "CalCom__OrganizationId")]
    [InlineData("CalCom:DefaultTriggers", "BOOKING_CREATED,booking cancelled", "CalCom__DefaultTriggers")]
    [InlineData("CalCom:DefaultTriggers", "BOOKING_CREATED BOOKING_CANCELLED", "CalCom__DefaultTriggers")]
    [InlineData("CalCom:OrganizationId", "0", "CalCom__OrganizationId")]
    [InlineData("Forwarding:Url", "https://app.example.com/hook#part", "Forwarding__Url")]
    [InlineData("Ingest:MaxBodyBytes", "104857601", "Ingest__MaxBodyBytes")]
    public async Task Invalid_setting_stops_the_app_naming_it(string key, string value, string settingName)
    {
        var failure = await StartFailureAsync(key, value);
        var validation = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(validation.Failures, f => f.Contains(settingName, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("CalCom:DefaultTriggers", " BOOKING_CREATED , ,MEETING_ENDED, ")]
    [InlineData("CalCom:DefaultTriggers", "")]
    [InlineData("CalCom:OrganizationId", "007")]
    [InlineData("CalCom:OrganizationId", "")]
    [InlineData("Forwarding:RetrySchedule", "20ms, 7d")]
    [InlineData("Ingest:MaxBodyBytes", "104857600")]
    [InlineData("Deliveries:RetentionDays", "3650")]
    public async Task Valid_edge_values_start(string key, string value)
    {
        await using var app = await TestApp.StartAsync(Storage, new Dictionary<string, string?> { [key] = value });
        Assert.NotNull(app.Get<IOptions<CalWebhookFunctions.Configuration.CalComOptions>>().Value);
    }

    [Fact]
    public async Task Non_numeric_max_body_bytes_stops_the_app_naming_the_setting()
    {
        // The binder itself refuses it, naming the configuration path.
        var failure = await StartFailureAsync("Ingest:MaxBodyBytes", "lots");
        Assert.Contains("Ingest:MaxBodyBytes", failure.ToString(), StringComparison.Ordinal);
    }
}
