using System.Text;

namespace CalWebhookFunctions.Connections;

/// <summary>
/// Connection ids are the caller's strings: slashes, <c>#</c>, <c>?</c>, spaces and any Unicode are fine.
/// Only the unreasonable is refused: empty, longer than <see cref="MaxLength"/> characters, control
/// characters, or broken UTF-16 (a lone surrogate cannot round-trip through UTF-8).
/// </summary>
public static class ConnectionId
{
    public const int MaxLength = 256;

    public static bool IsValid(string? id, out string problem)
    {
        problem = id switch
        {
            null or "" => "the connection id is empty",
            { Length: > MaxLength } => $"the connection id is longer than {MaxLength} characters",
            _ when id.Any(char.IsControl) => "the connection id contains control characters",
            _ when !IsWellFormedUtf16(id) => "the connection id is not well-formed Unicode",
            _ => "",
        };
        return problem.Length == 0;
    }

    /// <summary>Longest readable table key: Azure Table keys hold at most 1 KiB (512 UTF-16 characters).</summary>
    public const int MaxReadableKeyLength = 400;

    /// <summary>
    /// A table key for any valid connection id, distinct for distinct ids. <c>% / \ # ?</c>, <c>~</c> and control
    /// characters (which Azure Table keys do not allow raw, or which mark a hashed key) are percent-encoded (UTF-8) and
    /// everything else stays readable; an id whose readable key would pass <see cref="MaxReadableKeyLength"/> (up to
    /// 256 slashes triple in length) becomes <c>~</c> + the hex SHA-256 of its UTF-8 instead. The row keeps the id.
    /// </summary>
    public static string ToTableKey(string id)
    {
        var builder = new StringBuilder(id.Length + 8);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (c is '%' or '/' or '\\' or '#' or '?' or '~' || char.IsControl(c))
            {
                var length = Encoding.UTF8.GetBytes(id.AsSpan(i, 1), utf8);
                foreach (var b in utf8[..length])
                {
                    builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.Length <= MaxReadableKeyLength
            ? builder.ToString()
            : "~" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(id)));
    }

    private static bool IsWellFormedUtf16(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }
        return true;
    }
}
