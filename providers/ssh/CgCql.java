// CgCql.java - the CQL that cassandgo runs itself, on a node, through the
// DataStax driver 3.x that ships in Cassandra's own lib/ (sstableloader's).
// Uploaded by cassandgo beside cgnode and run as a single-file program
// (`java CgCql.java`: the JRE's module image has the compiler), so nodes
// need nothing besides the Cassandra jars and Java 17.
//
//   java -cp "<lib>/*" CgCql.java HOST PORT LOCAL_DC CA_FILE|- [WAIT_LOGIN_S]
//
// WAIT_LOGIN_S: keep retrying a refused first login that long (every half
// second): a new cluster's default role appears a moment after start, and
// moves while nodes join (one JVM instead of one per attempt).
// stdin: the user on the first line and the password on the second (both
// empty: no authentication), then one statement per line; a line
// `CONSISTENCY LEVEL` sets the level of the statements after it (default
// LOCAL_ONE); a line `RECONNECT` followed by a user and a password line
// goes on in a new session as that user (retried a few seconds: a role
// just created). Credentials travel on stdin only: never on a command line.
// With CA_FILE, TLS with the server's certificate checked against that CA
// and its IP subject alternative name against HOST.
//
// Prints the rows of each statement that returns rows, columns separated
// by tabs, then a line `--`.
// Exit: 0 done, 3 authentication refused (first login), 6 refused after
// RECONNECT, 4 no node reachable, 5 a statement failed, 64 usage. Messages never repeat a statement or the
// password.
import com.datastax.driver.core.*;
import com.datastax.driver.core.exceptions.*;
import com.datastax.driver.core.policies.*;
import com.datastax.shaded.netty.channel.socket.SocketChannel;
import java.io.*;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.*;
import java.util.*;
import javax.net.ssl.*;

public class CgCql {
    static String secret = null;

    static String scrub(String s) {
        if (s == null) return "";
        if (secret != null && !secret.isEmpty()) s = s.replace(secret, "***");
        return s;
    }

    static void die(int code, String what, Throwable t) {
        System.err.println("cgcql: " + what + (t == null ? "" : ": " + scrub(t.getMessage())));
        System.exit(code);
    }

    // The server must hold a certificate of the cluster's CA for the very
    // address dialled (the driver alone checks neither).
    // The engine is made here from the peer's address as a literal: the
    // driver's own asks for its host name, a reverse DNS lookup that takes
    // 10 s where no resolver answers (a node's network namespace).
    static class Verifying extends RemoteEndpointAwareJdkSSLOptions {
        final SSLContext ctx;
        Verifying(SSLContext c) { super(c, null); ctx = c; }
        @Override
        protected SSLEngine newSSLEngine(SocketChannel ch, InetSocketAddress peer) {
            SSLEngine e = peer == null || peer.getAddress() == null ? ctx.createSSLEngine()
                    : ctx.createSSLEngine(peer.getAddress().getHostAddress(), peer.getPort());
            e.setUseClientMode(true);
            SSLParameters p = e.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            e.setSSLParameters(p);
            return e;
        }
    }

    static SSLContext context(String caFile) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        int i = 0;
        try (InputStream f = new FileInputStream(caFile)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(f))
                ks.setCertificateEntry("ca" + i++, c);
        }
        if (i == 0) throw new IOException(caFile + " holds no certificate");
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    // Refused credentials, not a server that cannot read its roles right
    // now ("Unable to perform authentication": replicas down).
    static boolean refused(Throwable t) {
        return t instanceof AuthenticationException && t.getMessage() != null
                && !t.getMessage().contains("Unable to perform authentication");
    }

    static boolean authFailure(NoHostAvailableException e) {
        for (Throwable t : e.getErrors().values())
            if (refused(t)) return true;
        return false;
    }

    public static void main(String[] a) {
        // `--compile DIR SOURCE`: compile this very file once per node
        // (the JRE's image holds javac's module), so that later runs skip
        // the source launcher's compilation.
        if (a.length == 3 && a[0].equals("--compile")) {
            javax.tools.JavaCompiler jc = javax.tools.ToolProvider.getSystemJavaCompiler();
            if (jc == null) die(64, "no Java compiler in this runtime", null);
            System.exit(jc.run(null, null, null, "-nowarn", "-d", a[1],
                    "-cp", System.getProperty("java.class.path"), a[2]) == 0 ? 0 : 1);
        }
        if (a.length != 4 && a.length != 5) {
            System.err.println("usage: CgCql HOST PORT LOCAL_DC CA_FILE|- <credentials+statements");
            System.exit(64);
        }
        List<String> lines = new ArrayList<>();
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String l; (l = in.readLine()) != null; )
                lines.add(l);
        } catch (IOException e) {
            die(64, "cannot read stdin", e);
            return;
        }
        if (lines.size() < 2) die(64, "no credentials lines on stdin", null);
        SSLContext ctx = null;
        if (!a[3].equals("-")) {
            try {
                ctx = context(a[3]);
            } catch (Exception e) {
                die(64, "cannot use the CA " + a[3], e);
            }
        }
        // segments: credentials, then statements up to RECONNECT
        int i = 0, seg = 0;
        while (i < lines.size()) {
            String user = lines.get(i), pass = i + 1 < lines.size() ? lines.get(i + 1) : "";
            i += 2;
            List<String> stmts = new ArrayList<>();
            while (i < lines.size() && !lines.get(i).trim().equals("RECONNECT")) {
                if (!lines.get(i).isBlank()) stmts.add(lines.get(i).trim());
                i++;
            }
            i += i < lines.size() ? 1 : 0;	// the RECONNECT line
            secret = pass;
            int wait = seg == 0 && a.length == 5 ? Integer.parseInt(a[4]) : 0;
            run(a, ctx, user, pass, stmts, seg++ > 0, wait);
        }
        System.exit(0);
    }

    static void run(String[] a, SSLContext ctx, String user, String pass, List<String> lines,
                    boolean again, int waitLogin) {
        Cluster.Builder b = Cluster.builder()
                .addContactPoint(a[0]).withPort(Integer.parseInt(a[1]))
                .withoutJMXReporting().withoutMetrics()
                // every statement coordinated by this node: while security
                // is turned on, the others may not require passwords yet (and
                // would run it anonymously)
                .withLoadBalancingPolicy(new WhiteListPolicy(
                        DCAwareRoundRobinPolicy.builder().withLocalDc(a[2]).build(),
                        Collections.singletonList(new InetSocketAddress(a[0], Integer.parseInt(a[1])))))
                .withQueryOptions(new QueryOptions().setConsistencyLevel(ConsistencyLevel.LOCAL_ONE))
                .withSocketOptions(new SocketOptions().setConnectTimeoutMillis(10000).setReadTimeoutMillis(60000));
        if (!user.isEmpty()) b.withCredentials(user, pass);
        if (ctx != null) b.withSSL(new Verifying(ctx));
        int refusedCode = again ? 6 : 3;
        ConsistencyLevel cl = ConsistencyLevel.LOCAL_ONE;
        // a role created a moment ago may not be seen by every replica yet;
        // a first login may wait (waitLogin) for the default role
        long until = System.currentTimeMillis() + (again ? 5000L : waitLogin * 1000L);
        for (int attempt = 0; ; attempt++) {
            try (Cluster c = b.build(); Session s = c.connect()) {
                for (String st : lines) {
                    if (st.toUpperCase(Locale.ROOT).startsWith("CONSISTENCY ")) {
                        cl = ConsistencyLevel.valueOf(st.substring(12).trim().toUpperCase(Locale.ROOT));
                        continue;
                    }
                    ResultSet rs = null;
                    try {
                        rs = s.execute(new SimpleStatement(st).setConsistencyLevel(cl));
                    } catch (DriverException e) {
                        String verb = st.split("\\s+")[0].toUpperCase(Locale.ROOT);
                        die(5, "a " + verb + " statement failed", e);
                    }
                    if (rs.getColumnDefinitions().size() == 0)
                        continue;
                    for (Row r : rs) {
                        StringBuilder sb = new StringBuilder();
                        for (int k = 0; k < r.getColumnDefinitions().size(); k++) {
                            if (k > 0) sb.append('\t');
                            sb.append(r.getObject(k));
                        }
                        System.out.println(sb);
                    }
                    System.out.println("--");
                }
                return;
            } catch (AuthenticationException e) {
                if (!refused(e)) die(4, "the node cannot check credentials now", e);
                if (System.currentTimeMillis() >= until) die(refusedCode, "authentication refused", e);
            } catch (NoHostAvailableException e) {
                boolean auth = authFailure(e);
                if (!auth || System.currentTimeMillis() >= until)
                    die(auth ? refusedCode : 4, auth ? "authentication refused" : "no node reachable", e);
            } catch (DriverException e) {
                die(5, "CQL failed", e);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                die(4, "interrupted", e);
            }
        }
    }
}
