using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// <c>Forwarding__MaxConcurrentPerTarget</c>: at most that many forwards to one target (origin and path, see
/// <see cref="Key"/>) run at once on this instance, so one slow app cannot take every slot the host gives the
/// instance. Entering never waits: an event over the cap goes back to the queue for a moment (<see cref="DeliveryGate"/>).
/// </summary>
public sealed class TargetSlots(IOptions<ForwardingOptions> options)
{
    private readonly int _max = options.Value.MaxConcurrentPerTarget;
    private readonly ConcurrentDictionary<string, StrongBox<int>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>A slot for one forward to <paramref name="target"/>, or null when the target already has the most it may.</summary>
    public Slot? TryEnter(Uri target)
    {
        var counter = _inFlight.GetOrAdd(Key(target), static _ => new StrongBox<int>());
        if (Interlocked.Increment(ref counter.Value) <= _max)
        {
            return new Slot(counter);
        }
        Interlocked.Decrement(ref counter.Value);
        return null;
    }

    /// <summary>Forwards to <paramref name="target"/> running now on this instance.</summary>
    public int InFlight(Uri target) => _inFlight.TryGetValue(Key(target), out var counter) ? Volatile.Read(ref counter.Value) : 0;

    /// <summary>A target is its origin and path: the query (which may carry a token) and fragment do not make another app.</summary>
    public static string Key(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.GetLeftPart(UriPartial.Path);
    }

    /// <summary>Held while the forward runs; disposing it (once) frees the slot.</summary>
    public sealed class Slot(StrongBox<int> counter) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref counter.Value);
            }
        }
    }
}
