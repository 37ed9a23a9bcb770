namespace CalWebhookFunctions.Tests.Infrastructure;

/// <summary>Waiting for a condition of the real system (Azurite, Kestrel, the queue stand-in) to hold.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds (true) or a generous <paramref name="bound"/> passes (false); the bound is never the assertion.</summary>
    public static async Task<bool> HoldsAsync(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }
}
