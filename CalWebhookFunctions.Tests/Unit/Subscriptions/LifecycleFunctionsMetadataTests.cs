using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Unit.Subscriptions;

/// <summary>The lifecycle functions as the Functions host learns them from the generated functions.metadata.</summary>
public sealed class LifecycleFunctionsMetadataTests
{
    [Theory]
    [InlineData("PostConnectionCreation", "PUT")]
    [InlineData("PreConnectionDeletion", "DELETE")]
    [InlineData("GetConnection", "GET")]
    public void Connection_functions_are_function_key_HTTP_routes_on_connections_id(string name, string method)
    {
        var function = FunctionsMetadata.Get(name);

        Assert.Equal("httpTrigger", function.TriggerType);
        Assert.Equal("connections/{connectionId}", function.Route);
        Assert.Equal([method], function.Methods);
        Assert.Equal("Function", function.AuthLevel);
        Assert.Equal($"CalWebhookFunctions.Subscriptions.{name}.Run", function.EntryPoint);
    }

    [Theory]
    [InlineData("PostConnectionCreation", "PUT")]
    [InlineData("PreConnectionDeletion", "DELETE")]
    [InlineData("GetConnection", "GET")]
    public void Every_connection_route_has_a_query_form_on_connections(string name, string method)
    {
        var function = FunctionsMetadata.Get(name + "ByQuery");

        Assert.Equal("httpTrigger", function.TriggerType);
        Assert.Equal("connections", function.Route);
        Assert.Equal([method], function.Methods);
        Assert.Equal("Function", function.AuthLevel);
        Assert.Equal($"CalWebhookFunctions.Subscriptions.{name}.RunByQuery", function.EntryPoint);
    }

    [Fact]
    public void CleanUpSubscription_is_triggered_by_the_cleanup_queue_on_AzureWebJobsStorage()
    {
        var function = FunctionsMetadata.Get("CleanUpSubscription");

        Assert.Equal("queueTrigger", function.TriggerType);
        Assert.Equal("cal-subscription-cleanup", function.QueueName);
        Assert.Equal("AzureWebJobsStorage", function.Connection);
    }
}
