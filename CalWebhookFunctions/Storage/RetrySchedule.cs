namespace CalWebhookFunctions.Storage;

/// <summary>
/// The delays of a retry by re-enqueueing (<see cref="Redelivery"/>): retry n + 1 waits <c>Delays[n]</c>, the last delay
/// repeating past the end of the list, until <see cref="MaxRetries"/> retries are spent (by default one per delay).
/// </summary>
public class RetrySchedule
{
    public RetrySchedule(IReadOnlyList<TimeSpan> delays, int? maxRetries = null)
    {
        ArgumentNullException.ThrowIfNull(delays);
        MaxRetries = maxRetries ?? delays.Count;
        Delays = delays.Count > 0 || MaxRetries <= 0 ? delays : throw new ArgumentException("At least one delay.", nameof(delays));
    }

    public IReadOnlyList<TimeSpan> Delays { get; }

    public int MaxRetries { get; }

    /// <summary>The delay before retry number <paramref name="retriesSoFar"/> + 1, whether or not the schedule allows it.</summary>
    public TimeSpan Delay(int retriesSoFar) => Delays[Math.Clamp(retriesSoFar, 0, Delays.Count - 1)];

    /// <summary>The delay before retry number <paramref name="retriesSoFar"/> + 1, or null when the schedule is used up.</summary>
    public TimeSpan? Next(int retriesSoFar) => retriesSoFar >= MaxRetries ? null : Delay(retriesSoFar);

    /// <summary>The same delays without a limit (a retry that never gives up).</summary>
    public RetrySchedule Endless() => new(Delays, int.MaxValue);
}
