/*
 * kquota-testkit: an Amazon-MSK-IAM-style OAUTHBEARER validator for a local Apache Kafka broker.
 *
 * The token a client presents is what the official AWS MSK IAM SASL signers emit: the base64url
 * (unpadded) encoding of a SigV4 *presigned* URL
 *
 *   https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=...
 *
 * (facts: ../../../shared/reference/msk-iam.md section 1). This class checks that URL the way MSK has
 * to: query parameters are an unordered set, User-Agent is not signed and is ignored, the path may
 * be "/" or empty, the signature is recomputed from the secret key that the credentials file maps the
 * access key id to, and X-Amz-Date + X-Amz-Expires must cover "now" (within a clock skew). The
 * authenticated principal is the principal ARN the credentials file gives for that access key.
 *
 * Broker configuration (per listener, done by kquota-testkit):
 *   listener.name.<l>.oauthbearer.sasl.server.callback.handler.class=dev.kquota.testkit.MskIamValidatorCallbackHandler
 *   listener.name.<l>.oauthbearer.sasl.jaas.config=...OAuthBearerLoginModule required
 *       credentialsFile="/path/iam-credentials.json" clockSkewSeconds="300" [fixedNowMs="..."]
 *       (with fixedNowMs, tokens are checked at that instant and their lifetime, which bounds the
 *       SASL session, is moved onto the real clock by the same offset)
 *       [maxExpiresSeconds="900"] unsecuredLoginStringClaim_sub="broker";
 *
 * Credentials file: JSON {"identities":[{"access_key_id":..,"secret_access_key":..,
 * "session_token":..|null,"principal_arn":..}]} or a .properties file with the keys
 * <akid>.secret_access_key, <akid>.principal_arn and optional <akid>.session_token. It is re-read
 * whenever it changes (size, mtime or inode), so tests can add identities while the broker runs.
 *
 * Command line (classpath: the compiled class + Kafka's libs):
 *   validate <token>... [--now <epoch-ms>] --creds <file> [--skew-seconds N] [--max-expires N]
 *       prints "ACCEPTED <principal> <expiry-ms>" or "REJECTED <reason>" per token;
 *       exit 0 when all are accepted, 1 when one is rejected, 2 on usage errors.
 *   sign --access-key AK --secret SK --region R [--session-token T] [--date yyyyMMddTHHmmssZ|epoch-ms|now]
 *        [--expires 900] [--user-agent UA] [--print-url]
 *       prints a token in the Python signer's layout (Action, Algorithm, Credential, Date, Expires,
 *       SignedHeaders, [Security-Token], Signature, User-Agent).
 */
package dev.kquota.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class MskIamValidatorCallbackHandler implements AuthenticateCallbackHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MskIamValidatorCallbackHandler.class);

    static final String SERVICE = "kafka-cluster";
    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    static final String ACTION = "kafka-cluster:Connect";
    /** SHA-256 of the empty string: the payload hash every official MSK signer uses. */
    static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    static final Pattern HOST = Pattern.compile("kafka\\.([a-z0-9-]+)\\.amazonaws\\.com");
    static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");

    private CredentialsFile credentials;
    private long skewMs = 300_000L;
    private long maxExpiresSeconds = 900L;
    private Long fixedNowMs;

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        if (!"OAUTHBEARER".equals(saslMechanism)) {
            throw new IllegalArgumentException("MskIamValidatorCallbackHandler only supports OAUTHBEARER, not " + saslMechanism);
        }
        if (jaasConfigEntries == null || jaasConfigEntries.size() != 1) {
            throw new IllegalArgumentException("MskIamValidatorCallbackHandler needs exactly one JAAS entry");
        }
        Map<String, ?> options = jaasConfigEntries.get(0).getOptions();
        Object file = options.get("credentialsFile");
        if (file == null || file.toString().isEmpty()) {
            throw new IllegalArgumentException("MskIamValidatorCallbackHandler: JAAS option credentialsFile is required");
        }
        credentials = new CredentialsFile(Paths.get(file.toString()));
        skewMs = Long.parseLong(optionOr(options, "clockSkewSeconds", "300")) * 1000L;
        maxExpiresSeconds = Long.parseLong(optionOr(options, "maxExpiresSeconds", "900"));
        String fixed = optionOr(options, "fixedNowMs", "");
        fixedNowMs = fixed.isEmpty() ? null : Long.valueOf(fixed);
        LOG.info("MSK IAM validator: credentials file {}, clock skew {} ms, max expires {} s{}", file, skewMs,
            maxExpiresSeconds, fixedNowMs == null ? "" : ", fixed now " + fixedNowMs);
    }

    private static String optionOr(Map<String, ?> options, String key, String dflt) {
        Object v = options.get(key);
        return v == null ? dflt : v.toString().trim();
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback cb : callbacks) {
            if (cb instanceof OAuthBearerValidatorCallback) {
                OAuthBearerValidatorCallback v = (OAuthBearerValidatorCallback) cb;
                long now = fixedNowMs != null ? fixedNowMs : System.currentTimeMillis();
                try {
                    Verified ok = verify(v.tokenValue(), credentials.current(), now, skewMs, maxExpiresSeconds);
                    LOG.info("MSK IAM validator: accepted access key {} as principal {}", ok.accessKeyId, ok.principal);
                    if (fixedNowMs != null) {
                        // The broker bounds the session by the token's lifetime on the real clock:
                        // move the token's window by the same offset as the fixed "now".
                        long shift = System.currentTimeMillis() - fixedNowMs;
                        ok = new Verified(ok.principal, ok.accessKeyId, ok.startMs + shift, ok.expiryMs + shift);
                    }
                    v.token(ok.asToken(v.tokenValue()));
                } catch (Rejected e) {
                    LOG.info("MSK IAM validator: rejected token: {}", e.getMessage());
                    // Kafka puts errorStatus unescaped into a JSON string: keep it free of quotes.
                    v.error("invalid_token: " + e.getMessage().replace('"', '\'').replace('\\', '/'), null, null);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("MSK IAM validator: cannot validate token", e);
                    v.error("invalid_token: validator error: " + String.valueOf(e.getMessage()).replace('"', '\''), null, null);
                }
            } else if (cb instanceof OAuthBearerExtensionsValidatorCallback) {
                // MSK IAM sends no SASL extensions; any that arrive are left unvalidated (= ignored).
            } else {
                throw new UnsupportedCallbackException(cb);
            }
        }
    }

    @Override
    public void close() {}

    // ---------------------------------------------------------------------------------------------
    // Verification

    /** A refused token; the message says why, never contains a secret. */
    static final class Rejected extends Exception {
        Rejected(String message) {
            super(message);
        }
    }

    /** What an accepted token stands for. */
    static final class Verified {
        final String principal;
        final String accessKeyId;
        final long startMs;
        final long expiryMs;

        Verified(String principal, String accessKeyId, long startMs, long expiryMs) {
            this.principal = principal;
            this.accessKeyId = accessKeyId;
            this.startMs = startMs;
            this.expiryMs = expiryMs;
        }

        OAuthBearerToken asToken(String value) {
            final String p = principal;
            final long start = startMs;
            final long end = expiryMs;
            return new OAuthBearerToken() {
                @Override public String value() { return value; }
                @Override public Set<String> scope() { return Collections.emptySet(); }
                @Override public long lifetimeMs() { return end; }
                @Override public String principalName() { return p; }
                @Override public Long startTimeMs() { return start; }
            };
        }
    }

    /** One identity of the credentials file. */
    static final class Identity {
        final String secret;
        final String sessionToken;
        final String principalArn;

        Identity(String secret, String sessionToken, String principalArn) {
            this.secret = secret;
            this.sessionToken = sessionToken == null || sessionToken.isEmpty() ? null : sessionToken;
            this.principalArn = principalArn;
        }
    }

    static Verified verify(String token, Map<String, Identity> identities, long nowMs, long skewMs, long maxExpiresSeconds)
            throws Rejected {
        if (token == null || token.isEmpty()) throw new Rejected("empty token");
        String url;
        try {
            url = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Rejected("token is not unpadded base64url: " + e.getMessage());
        }
        final String scheme = "https://";
        if (!url.startsWith(scheme)) throw new Rejected("token is not an https:// URL");
        int q = url.indexOf('?');
        if (q < 0) throw new Rejected("presigned URL has no query");
        if (url.indexOf('#') >= 0) throw new Rejected("presigned URL has a fragment");
        String authorityAndPath = url.substring(scheme.length(), q);
        int slash = authorityAndPath.indexOf('/');
        String host = slash < 0 ? authorityAndPath : authorityAndPath.substring(0, slash);
        String path = slash < 0 ? "" : authorityAndPath.substring(slash);
        if (!path.isEmpty() && !path.equals("/")) throw new Rejected("presigned URL path must be / but is " + path);
        java.util.regex.Matcher hm = HOST.matcher(host);
        if (!hm.matches()) throw new Rejected("presigned URL host must be kafka.<region>.amazonaws.com but is " + host);
        String region = hm.group(1);

        // Query: an unordered set of parameters; the signer's order does not matter.
        Map<String, String> params = new HashMap<>();
        String query = url.substring(q + 1);
        if (query.isEmpty()) throw new Rejected("presigned URL has an empty query");
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) throw new Rejected("malformed query parameter '" + truncate(pair) + "'");
            String k = percentDecode(pair.substring(0, eq));
            String v = percentDecode(pair.substring(eq + 1));
            if (params.put(k, v) != null) throw new Rejected("duplicate query parameter " + k);
        }
        String action = require(params, "Action");
        if (!ACTION.equals(action)) throw new Rejected("Action must be " + ACTION + " but is " + truncate(action));
        String algorithm = require(params, "X-Amz-Algorithm");
        if (!ALGORITHM.equals(algorithm)) throw new Rejected("X-Amz-Algorithm must be " + ALGORITHM);
        String signedHeaders = require(params, "X-Amz-SignedHeaders");
        if (!"host".equals(signedHeaders)) throw new Rejected("X-Amz-SignedHeaders must be host but is " + truncate(signedHeaders));
        String amzDate = require(params, "X-Amz-Date");
        long signedAtMs;
        try {
            signedAtMs = LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new Rejected("X-Amz-Date is not yyyyMMddTHHmmssZ: " + truncate(amzDate));
        }
        String expiresText = require(params, "X-Amz-Expires");
        if (!DIGITS.matcher(expiresText).matches()) throw new Rejected("X-Amz-Expires must be a whole number of seconds but is " + truncate(expiresText));
        long expires = Long.parseLong(expiresText);
        if (expires < 1 || expires > maxExpiresSeconds) throw new Rejected("X-Amz-Expires must be 1.." + maxExpiresSeconds + " but is " + expires);
        String signature = require(params, "X-Amz-Signature");
        if (!HEX64.matcher(signature).matches()) throw new Rejected("X-Amz-Signature must be 64 lower-case hex digits");
        String credential = require(params, "X-Amz-Credential");
        String[] scopeParts = credential.split("/", -1);
        if (scopeParts.length != 5) throw new Rejected("X-Amz-Credential must be <access-key-id>/<date>/<region>/kafka-cluster/aws4_request");
        String accessKeyId = scopeParts[0];
        if (!scopeParts[1].equals(amzDate.substring(0, 8))) throw new Rejected("X-Amz-Credential date " + scopeParts[1] + " does not match X-Amz-Date " + amzDate);
        if (!scopeParts[2].equals(region)) throw new Rejected("X-Amz-Credential region " + truncate(scopeParts[2]) + " does not match host region " + region);
        if (!SERVICE.equals(scopeParts[3])) throw new Rejected("X-Amz-Credential service must be kafka-cluster but is " + truncate(scopeParts[3]));
        if (!"aws4_request".equals(scopeParts[4])) throw new Rejected("X-Amz-Credential must end in aws4_request");

        Identity id = identities.get(accessKeyId);
        if (id == null) throw new Rejected("unknown access key id " + truncate(accessKeyId));
        String presentedToken = params.get("X-Amz-Security-Token");
        if (presentedToken != null && presentedToken.isEmpty()) presentedToken = null;
        if (id.sessionToken == null && presentedToken != null) throw new Rejected("access key " + accessKeyId + " has no session token but the URL carries one");
        if (id.sessionToken != null && presentedToken == null) throw new Rejected("access key " + accessKeyId + " needs X-Amz-Security-Token (temporary credentials)");
        if (id.sessionToken != null && !MessageDigest.isEqual(id.sessionToken.getBytes(StandardCharsets.UTF_8), presentedToken.getBytes(StandardCharsets.UTF_8))) {
            throw new Rejected("X-Amz-Security-Token does not belong to access key " + accessKeyId);
        }

        // Canonical query: every parameter except the signature and the (unsigned) User-Agent,
        // RFC 3986-encoded, sorted by encoded name then value.
        TreeMap<String, String> canonical = new TreeMap<>();
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getKey().equals("X-Amz-Signature") || e.getKey().equals("User-Agent")) continue;
            canonical.put(rfc3986(e.getKey()), rfc3986(e.getValue()));
        }
        String expected = signature(canonical, host, amzDate, region, id.secret);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII))) {
            throw new Rejected("signature does not match (access key " + accessKeyId + ")");
        }
        long expiryMs = signedAtMs + expires * 1000L;
        if (nowMs + skewMs < signedAtMs) {
            throw new Rejected("token is signed in the future: X-Amz-Date " + amzDate + ", now " + Instant.ofEpochMilli(nowMs));
        }
        if (nowMs - skewMs > expiryMs) {
            throw new Rejected("token expired at " + Instant.ofEpochMilli(expiryMs) + " (X-Amz-Date " + amzDate + " + "
                + expires + " s), now " + Instant.ofEpochMilli(nowMs));
        }
        return new Verified(id.principalArn, accessKeyId, signedAtMs, expiryMs);
    }

    static String signature(TreeMap<String, String> canonicalQuery, String host, String amzDate, String region, String secret) {
        StringBuilder cq = new StringBuilder();
        for (Map.Entry<String, String> e : canonicalQuery.entrySet()) {
            if (cq.length() > 0) cq.append('&');
            cq.append(e.getKey()).append('=').append(e.getValue());
        }
        String canonicalRequest = "GET\n/\n" + cq + "\nhost:" + host + "\n\nhost\n" + EMPTY_SHA256;
        String scope = amzDate.substring(0, 8) + "/" + region + "/" + SERVICE + "/aws4_request";
        String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
        byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), amzDate.substring(0, 8));
        k = hmac(k, region);
        k = hmac(k, SERVICE);
        k = hmac(k, "aws4_request");
        return hex(hmac(k, stringToSign));
    }

    private static String require(Map<String, String> params, String key) throws Rejected {
        String v = params.get(key);
        if (v == null) throw new Rejected("missing query parameter " + key);
        return v;
    }

    private static String truncate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    static String percentDecode(String s) throws Rejected {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) throw new Rejected("bad percent-encoding in query");
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) throw new Rejected("bad percent-encoding in query");
                out.write(hi * 16 + lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    /** RFC 3986 encoding as SigV4 wants it: unreserved characters as is, the rest %XX upper-case. */
    static String rfc3986(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) sb.append(Character.forDigit((x >> 4) & 15, 16)).append(Character.forDigit(x & 15, 16));
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Credentials file, re-read when it changes

    static final class CredentialsFile {
        private final Path path;
        private Object stamp;
        private Map<String, Identity> identities = Collections.emptyMap();

        CredentialsFile(Path path) {
            this.path = path;
        }

        synchronized Map<String, Identity> current() throws IOException {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
            List<Object> now = List.of(String.valueOf(attrs.fileKey()), attrs.lastModifiedTime().toMillis(),
                attrs.lastModifiedTime().toString(), attrs.size());
            if (!now.equals(stamp)) {
                identities = load(path);
                stamp = now;
            }
            return identities;
        }
    }

    static Map<String, Identity> load(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        String text = new String(bytes, StandardCharsets.UTF_8).trim();
        Map<String, Identity> out = new HashMap<>();
        if (text.startsWith("{")) {
            JsonNode root = new ObjectMapper().readTree(text);
            JsonNode list = root.get("identities");
            if (list == null || !list.isArray()) throw new IOException(path + ": expected {\"identities\": [...]}");
            for (JsonNode n : list) {
                String ak = textOf(n, "access_key_id", path);
                out.put(ak, new Identity(textOf(n, "secret_access_key", path),
                    n.hasNonNull("session_token") ? n.get("session_token").asText() : null,
                    textOf(n, "principal_arn", path)));
            }
        } else {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(path)) {
                p.load(in);
            }
            for (String key : p.stringPropertyNames()) {
                if (!key.endsWith(".secret_access_key")) continue;
                String ak = key.substring(0, key.length() - ".secret_access_key".length());
                String arn = p.getProperty(ak + ".principal_arn");
                if (arn == null) throw new IOException(path + ": " + ak + ".principal_arn is missing");
                out.put(ak, new Identity(p.getProperty(key), p.getProperty(ak + ".session_token"), arn));
            }
        }
        return out;
    }

    private static String textOf(JsonNode n, String field, Path path) throws IOException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) throw new IOException(path + ": identity without " + field);
        return v.asText();
    }

    // ---------------------------------------------------------------------------------------------
    // Command line

    public static void main(String[] args) {
        try {
            if (args.length == 0) usage("expected a command: validate or sign");
            List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
            switch (args[0]) {
                case "validate":
                    System.exit(validateCommand(rest));
                    break;
                case "sign":
                    System.exit(signCommand(rest));
                    break;
                default:
                    usage("unknown command " + args[0]);
            }
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        } catch (IOException e) {
            System.err.println("error: " + e);
            System.exit(2);
        }
    }

    private static void usage(String why) {
        throw new IllegalArgumentException(why + "\nusage: validate <token>... [--now <epoch-ms>] --creds <file> [--skew-seconds N] [--max-expires N]\n"
            + "       sign --access-key AK --secret SK --region R [--session-token T] [--date yyyyMMddTHHmmssZ|epoch-ms|now] [--expires N] [--user-agent UA] [--print-url]");
    }

    private static Map<String, String> flags(List<String> args, List<String> positional, Set<String> booleans) {
        Map<String, String> out = new HashMap<>();
        Iterator<String> it = args.iterator();
        while (it.hasNext()) {
            String a = it.next();
            if (a.startsWith("--")) {
                if (booleans.contains(a)) {
                    out.put(a, "true");
                } else {
                    if (!it.hasNext()) usage("flag " + a + " needs a value");
                    out.put(a, it.next());
                }
            } else {
                positional.add(a);
            }
        }
        return out;
    }

    private static int validateCommand(List<String> args) throws IOException {
        List<String> tokens = new ArrayList<>();
        Map<String, String> f = flags(args, tokens, Set.of());
        for (String k : f.keySet()) {
            if (!Set.of("--now", "--creds", "--skew-seconds", "--max-expires").contains(k)) usage("unknown flag " + k);
        }
        if (tokens.isEmpty()) usage("validate needs at least one token");
        if (!f.containsKey("--creds")) usage("validate needs --creds <file>");
        Map<String, Identity> ids = load(Paths.get(f.get("--creds")));
        long now = f.containsKey("--now") ? Long.parseLong(f.get("--now")) : System.currentTimeMillis();
        long skew = Long.parseLong(f.getOrDefault("--skew-seconds", "300")) * 1000L;
        long maxExpires = Long.parseLong(f.getOrDefault("--max-expires", "900"));
        int rc = 0;
        for (String t : tokens) {
            try {
                Verified v = verify(t, ids, now, skew, maxExpires);
                System.out.println("ACCEPTED " + v.principal + " " + v.expiryMs);
            } catch (Rejected e) {
                System.out.println("REJECTED " + e.getMessage());
                rc = 1;
            }
        }
        return rc;
    }

    private static int signCommand(List<String> args) {
        List<String> positional = new ArrayList<>();
        Map<String, String> f = flags(args, positional, Set.of("--print-url"));
        if (!positional.isEmpty()) usage("unexpected argument " + positional.get(0));
        for (String k : f.keySet()) {
            if (!Set.of("--access-key", "--secret", "--region", "--session-token", "--date", "--expires", "--user-agent", "--print-url").contains(k)) {
                usage("unknown flag " + k);
            }
        }
        String ak = Objects.requireNonNullElseGet(f.get("--access-key"), () -> { usage("sign needs --access-key"); return null; });
        String sk = Objects.requireNonNullElseGet(f.get("--secret"), () -> { usage("sign needs --secret"); return null; });
        String region = Objects.requireNonNullElseGet(f.get("--region"), () -> { usage("sign needs --region"); return null; });
        String date = f.getOrDefault("--date", "now");
        String amzDate;
        if (date.equals("now")) {
            amzDate = AMZ_DATE.format(LocalDateTime.now(ZoneOffset.UTC));
        } else if (DIGITS.matcher(date).matches() || date.matches("[0-9]{10,16}")) {
            amzDate = AMZ_DATE.format(LocalDateTime.ofInstant(Instant.ofEpochMilli(Long.parseLong(date)), ZoneOffset.UTC));
        } else {
            try {
                amzDate = AMZ_DATE.format(LocalDateTime.parse(date, AMZ_DATE));
            } catch (DateTimeParseException e) {
                usage("--date must be yyyyMMddTHHmmssZ, epoch milliseconds or now");
                return 2;
            }
        }
        String expires = f.getOrDefault("--expires", "900");
        String ua = f.getOrDefault("--user-agent", "kquota-testkit-signer/0.1");
        String session = f.get("--session-token");
        String host = "kafka." + region + ".amazonaws.com";
        String credential = ak + "/" + amzDate.substring(0, 8) + "/" + region + "/" + SERVICE + "/aws4_request";
        // The Python signer's order: operation params, then auth params, then signature, then UA.
        List<String[]> ordered = new ArrayList<>();
        ordered.add(new String[] {"Action", ACTION});
        ordered.add(new String[] {"X-Amz-Algorithm", ALGORITHM});
        ordered.add(new String[] {"X-Amz-Credential", credential});
        ordered.add(new String[] {"X-Amz-Date", amzDate});
        ordered.add(new String[] {"X-Amz-Expires", expires});
        ordered.add(new String[] {"X-Amz-SignedHeaders", "host"});
        if (session != null) ordered.add(new String[] {"X-Amz-Security-Token", session});
        TreeMap<String, String> canonical = new TreeMap<>();
        for (String[] kv : ordered) canonical.put(rfc3986(kv[0]), rfc3986(kv[1]));
        ordered.add(new String[] {"X-Amz-Signature", signature(canonical, host, amzDate, region, sk)});
        ordered.add(new String[] {"User-Agent", ua});
        StringBuilder url = new StringBuilder("https://").append(host).append("/?");
        for (int i = 0; i < ordered.size(); i++) {
            if (i > 0) url.append('&');
            url.append(rfc3986(ordered.get(i)[0])).append('=').append(rfc3986(ordered.get(i)[1]));
        }
        if (f.containsKey("--print-url")) System.out.println(url);
        System.out.println(Base64.getUrlEncoder().withoutPadding().encodeToString(url.toString().getBytes(StandardCharsets.UTF_8)));
        return 0;
    }
}
