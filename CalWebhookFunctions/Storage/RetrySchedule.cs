namespace CalWebhookFunctions.Storage;

/// <summary>
/// The delays of a retry by re-enqueueing (<see cref="Redelivery"/>): retry n + 1 waits <c>Delays[n]</c>, the last delay
/// repeating past the end of the list, until <see cref="MaxRetries"/> retries are spent (by default one per delay).
/// Never empty: a configured schedule is checked by <see cref="Configuration.DurationList"/>, the others are constants.
/// </summary>
public class RetrySchedule(IReadOnlyList<TimeSpan> delays, int? maxRetries = null)
{
    public IReadOnlyList<TimeSpan> Delays => delays;

    public int MaxRetries { get; } = maxRetries ?? delays.Count;

    /// <summary>The delay before retry number <paramref name="retriesSoFar"/> + 1, whether or not the schedule allows it.</summary>
    public TimeSpan Delay(int retriesSoFar) => delays[Math.Clamp(retriesSoFar, 0, delays.Count - 1)];

    /// <summary>The delay before retry number <paramref name="retriesSoFar"/> + 1, or null when the schedule is used up.</summary>
    public TimeSpan? Next(int retriesSoFar) => retriesSoFar >= MaxRetries ? null : Delay(retriesSoFar);

    /// <summary>The same delays without a limit (a retry that never gives up).</summary>
    public RetrySchedule Endless() => new(delays, int.MaxValue);
}
