using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CalWebhookFunctions.Benchmarks.Payloads;

/// <summary>
/// Cal.com-shaped BOOKING_CREATED bodies of an exact size, as Cal.com's default (no template) delivery writes them:
/// compact JSON.stringify output, non-ASCII raw (names, notes in several scripts, emoji), newlines and quotes
/// escaped. A larger body is a seated event with more attendees and longer notes, not padding of one field.
/// </summary>
public static class CalPayloads
{
    private static readonly string[] Names =
    [
        "Zoë Müller", "José Álvarez", "渡辺 さくら", "Łukasz Żółć", "Ana-Sofía Peña", "Søren Kierkegård", "Ólafur Þórsson",
        "Chloé Lefèvre", "Дмитрий Иванов", "Αλέξανδρος Παπαδόπουλος", "Nguyễn Văn An", "Ada Lovelace",
    ];

    private static readonly string[] Zones = ["Europe/Berlin", "Europe/Madrid", "Asia/Tokyo", "Europe/Warsaw", "America/Bogota", "Europe/London"];

    private const string Notes =
        "Bitte bringen Sie die Unterlagen mit — merci ! 会議室は3階です。 Café ☕ afterwards? 🎉 \\\"Agenda\\\":\\n1. Überblick\\n2. Q&A ";

    /// <summary>A valid JSON BOOKING_CREATED body of exactly <paramref name="bytes"/> bytes (at least about 1.5 KiB).</summary>
    public static byte[] BookingCreated(int bytes, int seed = 0)
    {
        var attendees = new List<string>();
        string Build(string notes) => Head(seed) + string.Join(',', attendees) + Middle(seed) + notes + Tail(seed);

        // Attendees until the next one would not fit, then the notes fill the rest (multilingual text, then ASCII to size).
        while (true)
        {
            var i = attendees.Count;
            attendees.Add(Attendee(i, seed));
            if (Encoding.UTF8.GetByteCount(Build("")) > bytes - 400 && attendees.Count > 1)
            {
                attendees.RemoveAt(attendees.Count - 1);
                break;
            }
        }
        var notes = new StringBuilder();
        while (Encoding.UTF8.GetByteCount(Build(notes.ToString())) < bytes)
        {
            notes.Append(Notes);
        }
        // Trim back by whole text elements, then pad with ASCII to the exact size.
        while (Encoding.UTF8.GetByteCount(Build(notes.ToString())) > bytes - 8)
        {
            notes.Length -= 40;
            while (notes.Length > 0 && (char.IsHighSurrogate(notes[^1]) || notes[^1] == '\\'))
            {
                notes.Length--;
            }
        }
        while (Encoding.UTF8.GetByteCount(Build(notes.ToString())) < bytes)
        {
            notes.Append('.');
        }
        var body = Encoding.UTF8.GetBytes(Build(notes.ToString()));
        if (body.Length != bytes)
        {
            throw new InvalidOperationException($"Payload is {body.Length} bytes, not {bytes}.");
        }
        using var _ = JsonDocument.Parse(body); // throws unless it is one valid JSON document
        return body;
    }

    private static string Head(int seed) =>
        "{\"triggerEvent\":\"BOOKING_CREATED\",\"createdAt\":\"2026-11-26T10:" + Inv(seed % 60, "D2") + ":00.000Z\",\"payload\":{" +
        "\"type\":\"30min\",\"title\":\"Café ☕ with Zoë — Kick-off\",\"description\":\"Kennenlernen & Planung\",\"additionalNotes\":\"\"," +
        "\"customInputs\":{},\"startTime\":\"2026-12-01T09:00:00Z\",\"endTime\":\"2026-12-01T09:30:00Z\",\"organizer\":{\"id\":" + Inv(4200 + seed) +
        ",\"name\":\"Ada Lovelace\",\"email\":\"ada.lovelace@example.org\",\"username\":\"ada\",\"timeZone\":\"Europe/London\"," +
        "\"language\":{\"locale\":\"en\"},\"timeFormat\":\"h:mma\",\"utcOffset\":0},\"attendees\":[";

    private static string Attendee(int i, int seed) =>
        "{\"email\":\"guest" + Inv(i) + "." + Inv(seed) + "@example.org\",\"name\":\"" + Names[i % Names.Length] +
        "\",\"firstName\":\"\",\"lastName\":\"\",\"timeZone\":\"" + Zones[i % Zones.Length] + "\",\"language\":{\"locale\":\"" +
        (i % 3 == 0 ? "de" : i % 3 == 1 ? "ja" : "es") + "\"},\"utcOffset\":" + Inv(i % 5 * 60) + "}";

    private static string Middle(int seed) =>
        "],\"location\":\"integrations:daily\",\"destinationCalendar\":null,\"hideCalendarNotes\":false,\"requiresConfirmation\":null," +
        "\"eventTypeId\":" + Inv(1000 + seed) + ",\"seatsShowAttendees\":true,\"seatsPerTimeSlot\":null,\"uid\":\"bk_" + Inv(seed, "D6") +
        "9f8e7d6c5b4a\",\"bookingId\":" + Inv(900000 + seed) + ",\"metadata\":{\"videoCallUrl\":\"https://app.cal.com/video/bk_" + Inv(seed, "D6") +
        "\"},\"status\":\"ACCEPTED\",\"responses\":{\"name\":{\"label\":\"Ihr Name\",\"value\":\"Zoë Müller\"},\"email\":{\"label\":\"E-Mail\"," +
        "\"value\":\"zoe@example.org\"},\"location\":{\"label\":\"Ort\",\"value\":{\"optionValue\":\"\",\"value\":\"integrations:daily\"}}," +
        "\"notes\":{\"label\":\"Zusätzliche Notizen\",\"value\":\"";

    private static string Tail(int seed) =>
        "\"}},\"userFieldsResponses\":{},\"iCalUID\":\"bk_" + Inv(seed, "D6") + "@Cal.com\",\"iCalSequence\":0}}";

    private static string Inv(int value, string? format = null) => value.ToString(format, CultureInfo.InvariantCulture);
}
