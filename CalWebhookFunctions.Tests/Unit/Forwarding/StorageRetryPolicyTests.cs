using Azure;
using CalWebhookFunctions.Forwarding;

namespace CalWebhookFunctions.Tests.Unit.Forwarding;

public class StorageRetryPolicyTests
{
    [Fact]
    public void Delays_back_off_then_repeat_the_last_one_for_about_a_day()
    {
        var policy = StorageRetryPolicy.Default;

        Assert.Equal(TimeSpan.FromSeconds(10), policy.Delay(0));
        Assert.Equal(TimeSpan.FromMinutes(5), policy.Delay(4));
        Assert.Equal(TimeSpan.FromMinutes(5), policy.Delay(299));
        var total = Enumerable.Range(0, policy.MaxRetries).Aggregate(TimeSpan.Zero, (sum, n) => sum + policy.Delay(n));
        Assert.InRange(total, TimeSpan.FromHours(20), TimeSpan.FromHours(30));
    }

    [Fact]
    public void Storage_errors_and_timeouts_count_but_not_the_host_stopping_or_a_bug()
    {
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();

        Assert.True(StorageRetryPolicy.IsStorageFailure(new RequestFailedException(503, "Server busy"), default));
        Assert.True(StorageRetryPolicy.IsStorageFailure(new AggregateException(new RequestFailedException("refused")), default));
        Assert.True(StorageRetryPolicy.IsStorageFailure(new TaskCanceledException("network timeout"), default));
        Assert.False(StorageRetryPolicy.IsStorageFailure(new OperationCanceledException(stopping.Token), stopping.Token));
        Assert.False(StorageRetryPolicy.IsStorageFailure(new InvalidOperationException("a bug"), default));
    }
}
