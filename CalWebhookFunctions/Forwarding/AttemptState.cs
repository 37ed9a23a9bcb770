namespace CalWebhookFunctions.Forwarding;

/// <summary>
/// How far one attempt got, as a value: <see cref="Claimed"/> (this attempt holds the webhook-id's claim and may still
/// send) → <see cref="Sent"/> (the app answered, or did not, and the policy decided) → <see cref="Recorded"/> (the
/// outcome is stored). What a failure midway must undo follows from the state alone (<see cref="KeepsClaimOnFailure"/>).
/// </summary>
public abstract record AttemptState(DeliveryClaim Claim)
{
    /// <summary>
    /// Whether the claim must stay when storage fails from here on: only once the app answered 2xx, so no other copy
    /// sends the event again while the claim lasts. Before that it is released for the retry.
    /// </summary>
    public virtual bool KeepsClaimOnFailure => false;
}

/// <param name="SendBy">
/// The last moment a POST may start on this claim: its lease less the send timeout and the time the outcome needs to
/// be recorded. Past it, the claim could lapse mid-send and another copy could deliver too.
/// </param>
public sealed record Claimed(DeliveryClaim Claim, DateTimeOffset SendBy) : AttemptState(Claim)
{
    /// <summary>The claim's lease (<see cref="DeliveryClaim.LeaseUntil"/>) less what sending and recording may take.</summary>
    public static Claimed Of(DeliveryClaim claim, TimeSpan sendAndRecord) =>
        new(claim, (claim.LeaseUntil ?? DateTimeOffset.MinValue) - sendAndRecord);
}

public sealed record Sent(DeliveryClaim Claim, AttemptResult Result, DeliveryDecision Decision, long ElapsedMs) : AttemptState(Claim)
{
    public override bool KeepsClaimOnFailure => Decision.Kind == DecisionKind.Delivered;
}

public sealed record Recorded(DeliveryClaim Claim, ForwardOutcome Outcome) : AttemptState(Claim);
