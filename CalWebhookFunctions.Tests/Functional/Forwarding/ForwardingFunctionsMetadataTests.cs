using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Functional.Forwarding;

/// <summary>What the Functions host learns about the forwarding functions from the generated functions.metadata.</summary>
public class ForwardingFunctionsMetadataTests
{
    [Fact]
    public void ForwardCalWebhook_is_a_queue_trigger_on_cal_webhooks_through_AzureWebJobsStorage()
    {
        var function = FunctionsMetadata.Get("ForwardCalWebhook");

        Assert.Equal("queueTrigger", function.TriggerType);
        Assert.Equal("cal-webhooks", function.QueueName);
        Assert.Equal("AzureWebJobsStorage", function.Connection);
        Assert.Equal("CalWebhookFunctions.Forwarding.ForwardCalWebhook.Run", function.EntryPoint);
    }

    [Fact]
    public void ReplayDeadLetters_is_POST_deliveries_replay_with_function_level_auth()
    {
        var function = FunctionsMetadata.Get("ReplayDeadLetters");

        Assert.Equal("httpTrigger", function.TriggerType);
        Assert.Equal("deliveries/replay", function.Route);
        Assert.Equal(["POST"], function.Methods);
        Assert.Equal("Function", function.AuthLevel);
    }
}
