// Cross-check harness for crates/kquota-iam/tests/java_crosscheck.rs.
//
// Calls the Java reference library software.amazon.msk:aws-msk-iam-auth as its IAMSaslClient
// does: AuthenticationRequestParams.create(host, credentials, userAgent), then
// AWS4SignedPayloadGenerator.signedPayload(params). The library signs with the real clock (its
// presigner takes no clock), so the Rust side reads x-amz-date and x-amz-expires back from this
// payload, signs the same inputs at that time and compares every key.
//
// stdin:  one input per line, tab-separated: host, access key id, secret key, session token
//         ("-" for none), user agent
// stdout: one line per input: region the library derived from the host, a tab, the JSON payload
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.msk.auth.iam.internals.AWS4SignedPayloadGenerator;
import software.amazon.msk.auth.iam.internals.AuthenticationRequestParams;

public class MskIamPayload {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        AWS4SignedPayloadGenerator generator = new AWS4SignedPayloadGenerator();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            AwsCredentials creds = "-".equals(f[3])
                ? AwsBasicCredentials.create(f[1], f[2])
                : AwsSessionCredentials.create(f[1], f[2], f[3]);
            AuthenticationRequestParams params = AuthenticationRequestParams.create(f[0], creds, f[4]);
            byte[] payload = generator.signedPayload(params);
            System.out.println(params.getRegion().id() + "\t" + new String(payload, StandardCharsets.UTF_8));
        }
    }
}
