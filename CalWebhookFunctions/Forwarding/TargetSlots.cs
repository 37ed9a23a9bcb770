using System.Collections.Concurrent;
using CalWebhookFunctions.Configuration;
using Microsoft.Extensions.Options;

namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// <c>Forwarding__MaxConcurrentPerTarget</c>: at most that many requests to one target (origin and path, see
/// <see cref="Key"/>) are in flight at once on this instance, so one slow app cannot take every slot the host gives the
/// instance. A slot is held around the POST only (not the storage calls before and after it), and an event over the cap
/// waits for one at most <see cref="Wait"/>: a fast target frees a slot within that, so its events queue for a moment
/// in memory instead of making a round trip through the queue; a slow one does not, and its events go back to the queue
/// (<see cref="HeldEvents.BounceAsync"/>), each having held a host slot for no longer than the wait.
/// </summary>
public sealed class TargetSlots(IOptions<ForwardingOptions> options, TimeProvider time)
{
    /// <summary>The longest an event waits in memory for a slot before it goes back to the queue.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(1);

    private readonly int _max = options.Value.MaxConcurrentPerTarget;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _slots = new(StringComparer.Ordinal);

    /// <summary>A slot for one request to <paramref name="target"/>, or null when none came free within <see cref="Wait"/>.</summary>
    public async Task<Slot?> EnterAsync(Uri target, CancellationToken cancellationToken)
    {
        var slots = _slots.GetOrAdd(Key(target), _ => new SemaphoreSlim(_max, _max));
        if (slots.Wait(0, CancellationToken.None))
        {
            return new Slot(slots);
        }
        using var waited = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = time.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), waited, Wait, Timeout.InfiniteTimeSpan);
        try
        {
            await slots.WaitAsync(waited.Token).ConfigureAwait(false);
            return new Slot(slots);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>A target is its origin and path: the query (which may carry a token) and fragment do not make another app.</summary>
    public static string Key(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.GetLeftPart(UriPartial.Path);
    }

    /// <summary>Held while the request runs; disposing it (once) frees the slot.</summary>
    public sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
