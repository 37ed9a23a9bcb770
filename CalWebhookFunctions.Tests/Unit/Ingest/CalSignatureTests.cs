using System.Text;
using CalWebhookFunctions.Ingest;

namespace CalWebhookFunctions.Tests.Unit.Ingest;

/// <summary>
/// Known-answer vectors computed outside this code base (RFC 4231 §4.3 and <c>openssl dgst -sha256 -hmac</c>),
/// and every malformed header the receiver can meet.
/// </summary>
public class CalSignatureTests
{
    private static readonly byte[] Rfc4231Body = "what do ya want for nothing?"u8.ToArray();
    private static readonly byte[][] Rfc4231Key = [Encoding.UTF8.GetBytes("Jefe")];
    private const string Rfc4231Mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    // printf '%s' '<body>' | openssl dgst -sha256 -hmac 'cal-secret-ü'
    private static readonly byte[] CalBody = Encoding.UTF8.GetBytes(
        "{\"triggerEvent\":\"BOOKING_CREATED\",\"createdAt\":\"2026-11-26T10:00:00.000Z\",\"payload\":{\"title\":\"Café ☕\",\"uid\":\"bk_1\"}}");
    private static readonly byte[][] CalKey = [Encoding.UTF8.GetBytes("cal-secret-ü")];
    private const string CalMac = "7d349bde44e27783c8e80af6bc772df942768cc9abd86228505ae3c4860358a8";

    [Fact]
    public void Rfc4231_test_case_2_verifies()
    {
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify(Rfc4231Body, Rfc4231Mac, Rfc4231Key));
    }

    [Fact]
    public void Cal_shaped_body_with_non_ascii_secret_and_text_verifies_against_openssl_vector()
    {
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify(CalBody, CalMac, CalKey));
    }

    [Fact]
    public void Sign_produces_the_lowercase_hex_cal_com_sends()
    {
        Assert.Equal(CalMac, CalSignature.Sign(CalBody, CalKey[0]));
        Assert.Equal(Rfc4231Mac, CalSignature.Sign(Rfc4231Body, Rfc4231Key[0]));
    }

    [Fact]
    public void Uppercase_hex_verifies()
    {
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify(CalBody, CalMac.ToUpperInvariant(), CalKey));
    }

    [Fact]
    public void Mixed_case_hex_verifies()
    {
        var mixed = string.Concat(CalMac.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify(CalBody, mixed, CalKey));
    }

    [Fact]
    public void Surrounding_whitespace_is_ignored()
    {
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify(CalBody, " " + CalMac + "\t", CalKey));
    }

    [Fact]
    public void A_later_key_in_the_list_verifies_as_during_rotation()
    {
        byte[][] keys = [Encoding.UTF8.GetBytes("new-secret"), CalKey[0]];
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify(CalBody, CalMac, keys));
    }

    [Fact]
    public void Wrong_secret_is_a_mismatch()
    {
        Assert.Equal(SignatureCheck.Mismatch, CalSignature.Verify(CalBody, CalMac, [Encoding.UTF8.GetBytes("cal-secret-u")]));
    }

    [Fact]
    public void One_changed_body_byte_is_a_mismatch()
    {
        var tampered = CalBody.ToArray();
        tampered[^3] ^= 0x01;
        Assert.Equal(SignatureCheck.Mismatch, CalSignature.Verify(tampered, CalMac, CalKey));
    }

    [Fact]
    public void One_changed_signature_digit_is_a_mismatch()
    {
        var wrong = CalMac[..^1] + (CalMac[^1] == '0' ? '1' : '0');
        Assert.Equal(SignatureCheck.Mismatch, CalSignature.Verify(CalBody, wrong, CalKey));
    }

    [Fact]
    public void A_difference_in_any_one_bit_of_the_mac_is_a_mismatch()
    {
        // The comparison folds the MAC in 64-bit words: every byte position and bit of every word must count.
        var mac = Convert.FromHexString(CalMac);
        for (var bit = 0; bit < mac.Length * 8; bit++)
        {
            var flipped = mac.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Equal(SignatureCheck.Mismatch, CalSignature.Verify(CalBody, Convert.ToHexString(flipped), CalKey));
        }
    }

    [Fact]
    public void No_keys_at_all_never_verifies()
    {
        Assert.Equal(SignatureCheck.Mismatch, CalSignature.Verify(CalBody, CalMac, []));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Missing_or_empty_header_is_missing(string? header)
    {
        Assert.Equal(SignatureCheck.Missing, CalSignature.Verify(CalBody, header, CalKey));
    }

    [Fact]
    public void No_secret_provided_literal_is_reported_as_such()
    {
        Assert.Equal(SignatureCheck.NoSecretProvided, CalSignature.Verify(CalBody, "no-secret-provided", CalKey));
    }

    [Theory]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(32)]
    [InlineData(128)]
    public void Wrong_length_is_malformed(int length)
    {
        var header = (CalMac + CalMac)[..length];
        Assert.Equal(SignatureCheck.Malformed, CalSignature.Verify(CalBody, header, CalKey));
    }

    [Theory]
    [InlineData('g')]
    [InlineData('z')]
    [InlineData(' ')]
    [InlineData('-')]
    [InlineData('é')]
    public void Non_hex_character_is_malformed(char bad)
    {
        var header = CalMac[..10] + bad + CalMac[11..];
        Assert.Equal(SignatureCheck.Malformed, CalSignature.Verify(CalBody, header, CalKey));
    }

    [Fact]
    public void Prefixed_form_is_malformed_because_cal_com_never_sends_it()
    {
        Assert.Equal(SignatureCheck.Malformed, CalSignature.Verify(CalBody, "sha256=" + CalMac, CalKey));
    }

    [Fact]
    public void Base64_of_the_right_mac_is_malformed()
    {
        var base64 = Convert.ToBase64String(Convert.FromHexString(CalMac));
        Assert.Equal(SignatureCheck.Malformed, CalSignature.Verify(CalBody, base64, CalKey));
    }

    [Fact]
    public void Empty_body_signed_correctly_verifies()
    {
        // printf '' | openssl dgst -sha256 -hmac Jefe
        const string EmptyMac = "923598ca6d64af2a5dba79dcd021a8a0fe5c5f557519adaaf0ad532d4506dd30";
        Assert.Equal(SignatureCheck.Valid, CalSignature.Verify([], EmptyMac, Rfc4231Key));
    }
}
