using System.Diagnostics;
using System.Text.Json;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Unit.Operations;

/// <summary>
/// The console's payload formatter (<c>Operations/Console/json.js</c>, run by node): it re-indents JSON text without
/// turning numbers into doubles or touching strings, and leaves anything that is not JSON to be shown raw.
/// </summary>
public sealed class ConsoleJsonTests
{
    private static async Task<string?> PrettyAsync(string text)
    {
        var module = new Uri(RepoPaths.File("CalWebhookFunctions", "Operations", "Console", "json.js")).AbsoluteUri;
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--input-type=module");
        start.ArgumentList.Add("-e");
        start.ArgumentList.Add($"const {{ prettyJson }} = await import({JsonSerializer.Serialize(module)}); " +
                               "process.stdout.write(JSON.stringify(prettyJson(process.argv[1])));");
        start.ArgumentList.Add(text);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, errors);
        return JsonSerializer.Deserialize<string?>(output);
    }

    [Fact]
    public async Task Numbers_keep_every_digit_as_sent()
    {
        Assert.Equal("{\n  \"n\": 12345678901234567890,\n  \"f\": 1.50e3\n}", await PrettyAsync("{\"n\":12345678901234567890,\"f\":1.50e3}"));
    }

    [Fact]
    public async Task Strings_are_copied_untouched_including_escapes_and_json_punctuation()
    {
        Assert.Equal("[\n  \"a \\\" {b}, [c]: d\",\n  \"<script>x</script>\"\n]", await PrettyAsync("[\"a \\\" {b}, [c]: d\" , \"<script>x</script>\"]"));
    }

    [Fact]
    public async Task Empty_objects_and_arrays_stay_on_one_line()
    {
        Assert.Equal("{\n  \"a\": [],\n  \"b\": {}\n}", await PrettyAsync("{\"a\":[ ],\"b\":{\n}}"));
    }

    [Theory]
    [InlineData("[object Object]")]
    [InlineData("name=Ada&email=ada%40example.org")]
    [InlineData("{\"unterminated\":")]
    public async Task Text_that_is_not_one_json_document_is_left_to_be_shown_raw(string text)
    {
        Assert.Null(await PrettyAsync(text));
    }

    [Fact]
    public async Task The_indented_text_is_the_same_document()
    {
        var body = System.Text.Encoding.UTF8.GetString(CalDeliveries.BookingCreated("customer-42"));
        var pretty = await PrettyAsync(body);
        Assert.NotNull(pretty);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(body).RootElement, JsonDocument.Parse(pretty).RootElement));
        Assert.Contains("\n    \"attendees\": [\n      {\n", pretty, StringComparison.Ordinal);
    }
}
