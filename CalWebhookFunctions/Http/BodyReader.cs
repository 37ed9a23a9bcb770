using Microsoft.AspNetCore.Http;

namespace CalWebhookFunctions.Http;

/// <summary>
/// Reads a request body as raw bytes, whatever its Content-Type says (no form parsing), and stops at a
/// limit: a declared Content-Length over the limit is refused before anything is read, and an undeclared
/// (chunked) body is read only until it passes the limit.
/// </summary>
public static class BodyReader
{
    /// <summary>The body, or null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared)
        {
            if (declared > maxBytes)
            {
                return null;
            }
            // The server enforces Content-Length, so exactly this many bytes follow.
            var exact = new byte[declared];
            var read = await FillAsync(request.Body, exact, 0, cancellationToken).ConfigureAwait(false);
            return read == exact.Length ? exact : exact[..read];
        }

        var buffer = new byte[Math.Min(maxBytes + 1, 16 * 1024)];
        var filled = 0;
        while (true)
        {
            filled = await FillAsync(request.Body, buffer, filled, cancellationToken).ConfigureAwait(false);
            if (filled < buffer.Length)
            {
                return buffer[..filled];
            }
            if (filled > maxBytes)
            {
                // One byte past the limit is enough to know: the rest is never read.
                return null;
            }
            Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1, (long)buffer.Length * 2));
        }
    }

    /// <summary>Reads into <paramref name="buffer"/> from <paramref name="offset"/> until it is full or the stream ends.</summary>
    private static async Task<int> FillAsync(Stream stream, byte[] buffer, int offset, CancellationToken cancellationToken)
    {
        while (offset < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(offset), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            offset += read;
        }
        return offset;
    }
}
