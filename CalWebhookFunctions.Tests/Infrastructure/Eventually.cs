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

    /// <summary>As <see cref="HoldsAsync(Func{bool}, TimeSpan)"/>, for a condition that reads storage (polled every 200 ms).</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(200);
        }
        return true;
    }
}
