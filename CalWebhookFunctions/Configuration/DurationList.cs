using System.Globalization;

namespace CalWebhookFunctions.Configuration;

/// <summary>
/// Parses schedules such as <c>5s,30s,2m,1h</c>: each entry a whole number followed by
/// <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c>.
/// </summary>
public static class DurationList
{
    public static IReadOnlyList<TimeSpan> Parse(string value)
    {
        if (!TryParse(value, out var delays, out var error))
        {
            throw new FormatException(error);
        }
        return delays;
    }

    public static bool TryParse(string? value, out IReadOnlyList<TimeSpan> delays, out string error)
    {
        var result = new List<TimeSpan>();
        delays = result;
        error = "";
        foreach (var entry in SettingLists.Split(value))
        {
            if (!TryParseOne(entry, out var delay))
            {
                error = $"'{entry}' is not a duration such as 500ms, 5s, 2m, 1h or 1d";
                return false;
            }
            result.Add(delay);
        }
        if (result.Count == 0)
        {
            error = "the schedule is empty";
            return false;
        }
        return true;
    }

    private static bool TryParseOne(string entry, out TimeSpan delay)
    {
        var unitLength = entry.EndsWith("ms", StringComparison.Ordinal) ? 2 : 1;
        var unit = entry[^unitLength..] switch
        {
            "ms" => TimeSpan.FromMilliseconds(1),
            "s" => TimeSpan.FromSeconds(1),
            "m" => TimeSpan.FromMinutes(1),
            "h" => TimeSpan.FromHours(1),
            "d" => TimeSpan.FromDays(1),
            _ => TimeSpan.Zero,
        };
        var valid = int.TryParse(entry[..^unitLength], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count <= 1_000_000 && unit != TimeSpan.Zero;
        delay = valid ? unit * count : default;
        return valid;
    }
}
