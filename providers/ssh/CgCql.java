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
// Shell mode (the login user's `cqlsh` on a node, through cgnode cqlsh):
//
//   java ... CgCql --shell HOST PORT LOCAL_DC CA_FILE|- CREDENTIALS|- [-e CQL | -f FILE] [-k KS] [HOST [PORT]]
//
// CREDENTIALS: a cqlsh credentials file ([plain_text_auth] username =,
// password =), read here: the password is never an argument. Statements
// from -e, -f or stdin, each ended by `;` (quotes and comments understood);
// CONSISTENCY [LEVEL], USE, EXIT and QUIT as in cqlsh; rows as a table.
// Exit: 0, 1 connection or login refused, 2 a statement failed (as cqlsh).
//
// Prints the rows of each statement that returns rows, columns separated
// by tabs, then a line `--`.
// Exit: 0 done, 3 authentication refused (first login), 6 refused after
// RECONNECT, 4 no node reachable, 5 a statement failed, 64 usage. Messages never repeat a statement or the
// password.
import com.datastax.driver.core.*;
import com.datastax.driver.core.exceptions.*;
import com.datastax.driver.core.policies.*;
import com.datastax.shaded.netty.channel.EventLoopGroup;
import com.datastax.shaded.netty.channel.socket.SocketChannel;
import java.io.*;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.*;
import java.util.*;
import java.util.concurrent.TimeUnit;
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
        if (a.length >= 6 && a[0].equals("--shell")) {
            Shell.main(a);
            return;
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

    // Cluster.close() waits out Netty's quiet period (2 s) by default; a
    // client whose session closed has nothing in flight: every call and
    // every RECONNECT paid those 2 s.
    static final NettyOptions QUICK_CLOSE = new NettyOptions() {
        @Override
        public void onClusterClose(EventLoopGroup g) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    };

    static void run(String[] a, SSLContext ctx, String user, String pass, List<String> lines,
                    boolean again, int waitLogin) {
        Cluster.Builder b = Cluster.builder()
                .addContactPoint(a[0]).withPort(Integer.parseInt(a[1]))
                .withoutJMXReporting().withoutMetrics().withNettyOptions(QUICK_CLOSE)
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

    // --- shell mode ----------------------------------------------------------
    static class Shell {
        static String[] credentials(String file) {
            String user = null, pass = null;
            boolean section = false;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(new FileInputStream(file), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    String t = l.trim();
                    if (t.startsWith("[")) {
                        section = t.equals("[plain_text_auth]");
                        continue;
                    }
                    int eq = t.indexOf('=');
                    if (!section || eq < 0) continue;
                    String k = t.substring(0, eq).trim(), v = t.substring(eq + 1).trim();
                    if (k.equals("username")) user = v;
                    else if (k.equals("password")) pass = v;
                }
            } catch (IOException e) {
                System.err.println("cqlsh: cannot read the credentials " + file + ": " + e.getMessage());
                System.exit(1);
            }
            if (user == null || pass == null || user.isEmpty()) {
                System.err.println("cqlsh: " + file + " names no username and password under [plain_text_auth]");
                System.exit(1);
            }
            return new String[] { user, pass };
        }

        // Splits input into statements ended by ';' outside quotes and
        // comments; returns the complete ones, keeps the rest in buf.
        static List<String> split(StringBuilder buf) {
            List<String> out = new ArrayList<>();
            String s = buf.toString();
            int start = 0, i = 0, n = s.length();
            StringBuilder cur = new StringBuilder();
            while (i < n) {
                char c = s.charAt(i);
                if (c == '\'' || c == '"') {
                    int j = i + 1;
                    while (j < n) {
                        if (s.charAt(j) == c) {
                            if (j + 1 < n && s.charAt(j + 1) == c) { j += 2; continue; }
                            break;
                        }
                        j++;
                    }
                    if (j >= n) break;	// open quote: wait for more
                    cur.append(s, i, j + 1);
                    i = j + 1;
                } else if (c == '$' && i + 1 < n && s.charAt(i + 1) == '$') {
                    int j = s.indexOf("$$", i + 2);
                    if (j < 0) break;
                    cur.append(s, i, j + 2);
                    i = j + 2;
                } else if ((c == '-' && s.startsWith("--", i)) || (c == '/' && s.startsWith("//", i))) {
                    int j = s.indexOf('\n', i);
                    if (j < 0) break;
                    i = j + 1;
                    cur.append(' ');
                } else if (c == '/' && s.startsWith("/*", i)) {
                    int j = s.indexOf("*/", i + 2);
                    if (j < 0) break;
                    i = j + 2;
                    cur.append(' ');
                } else if (c == ';') {
                    String st = cur.toString().trim();
                    if (!st.isEmpty()) out.add(st);
                    cur.setLength(0);
                    i++;
                    start = i;
                } else if (c == '\n' && isShellCommand(cur.toString())) {
                    // cqlsh's own commands need no ';'
                    out.add(cur.toString().trim());
                    cur.setLength(0);
                    i++;
                    start = i;
                } else {
                    cur.append(c);
                    i++;
                }
            }
            buf.delete(0, start);
            return out;
        }

        static boolean isShellCommand(String st) {
            String u = st.trim().toUpperCase(Locale.ROOT);
            return u.equals("EXIT") || u.equals("QUIT") || u.equals("CONSISTENCY")
                    || u.startsWith("CONSISTENCY ");
        }

        static void table(ResultSet rs) {
            ColumnDefinitions cd = rs.getColumnDefinitions();
            int nc = cd.size();
            List<String[]> rows = new ArrayList<>();
            int[] w = new int[nc];
            String[] head = new String[nc];
            for (int k = 0; k < nc; k++) {
                head[k] = cd.getName(k);
                w[k] = head[k].length();
            }
            for (Row r : rs) {
                String[] v = new String[nc];
                for (int k = 0; k < nc; k++) {
                    Object o = r.getObject(k);
                    v[k] = o == null ? "null" : o.toString();
                    w[k] = Math.max(w[k], v[k].length());
                }
                rows.add(v);
            }
            StringBuilder sb = new StringBuilder("\n");
            line(sb, head, w);
            for (int k = 0; k < nc; k++) {
                sb.append(k > 0 ? "+" : "").append("-".repeat(w[k] + 2));
            }
            sb.append('\n');
            for (String[] v : rows) line(sb, v, w);
            sb.append('\n').append('(').append(rows.size()).append(rows.size() == 1 ? " rows)\n" : " rows)\n");
            System.out.print(sb);
            System.out.flush();
        }

        static void line(StringBuilder sb, String[] v, int[] w) {
            for (int k = 0; k < v.length; k++) {
                if (k > 0) sb.append('|');
                sb.append(' ').append(v[k]).append(" ".repeat(w[k] - v[k].length() + 1));
            }
            sb.append('\n');
        }

        static void main(String[] a) {
            String host = a[1], dc = a[3], ca = a[4], cred = a[5];
            int port = Integer.parseInt(a[2]);
            String exec = null, file = null, ks = null;
            int positional = 0;
            for (int i = 6; i < a.length; i++) {
                String o = a[i];
                boolean more = i + 1 < a.length;
                // cqlsh's [HOST [PORT]]: another node to talk to
                if (!o.startsWith("-") && positional < 2) {
                    if (positional++ == 0) host = o;
                    else {
                        try {
                            port = Integer.parseInt(o);
                        } catch (NumberFormatException e) {
                            System.err.println("cqlsh: bad port " + o);
                            System.exit(64);
                        }
                    }
                    continue;
                }
                if ((o.equals("-e") || o.equals("--execute")) && more) exec = a[++i];
                else if ((o.equals("-f") || o.equals("--file")) && more) file = a[++i];
                else if ((o.equals("-k") || o.equals("--keyspace")) && more) ks = a[++i];
                else if (o.startsWith("--execute=")) exec = o.substring(10);
                else if (o.startsWith("--file=")) file = o.substring(7);
                else if (o.startsWith("--keyspace=")) ks = o.substring(11);
                else if (o.equals("-h") || o.equals("--help")) {
                    System.out.println("usage: cqlsh [-e STATEMENTS | -f FILE] [-k KEYSPACE] [HOST [PORT]]\n"
                            + "Connects to this node as the cluster's superuser (credentials in " + cred
                            + ", TLS checked against " + ca + "); no host, port, user or password to give.");
                    System.exit(0);
                } else {
                    System.err.println("cqlsh: " + (o.equals("-u") || o.equals("-p") || o.startsWith("--user")
                            || o.startsWith("--password")
                            ? "the credentials come from the node's login/credentials file, never from the command line"
                            : "unknown option " + o + " (cqlsh [-e STATEMENTS | -f FILE] [-k KEYSPACE])"));
                    System.exit(64);
                }
            }
            SSLContext ctx = null;
            if (!ca.equals("-")) {
                try {
                    ctx = context(ca);
                } catch (Exception e) {
                    System.err.println("cqlsh: cannot use the CA " + ca + ": " + e.getMessage());
                    System.exit(1);
                }
            }
            Cluster.Builder b = Cluster.builder()
                    .addContactPoint(host).withPort(port)
                    .withoutJMXReporting().withoutMetrics().withNettyOptions(QUICK_CLOSE)
                    .withLoadBalancingPolicy(new WhiteListPolicy(
                            DCAwareRoundRobinPolicy.builder().withLocalDc(dc).build(),
                            Collections.singletonList(new InetSocketAddress(host, port))))
                    .withSocketOptions(new SocketOptions().setConnectTimeoutMillis(10000).setReadTimeoutMillis(60000));
            if (!cred.equals("-")) {
                String[] up = credentials(cred);
                secret = up[1];
                b.withCredentials(up[0], up[1]);
            }
            if (ctx != null) b.withSSL(new Verifying(ctx));
            Reader src;
            boolean interactive = false;
            try {
                if (exec != null) src = new StringReader(exec + "\n;");
                else if (file != null) src = new InputStreamReader(new FileInputStream(file), StandardCharsets.UTF_8);
                else {
                    src = new InputStreamReader(System.in, StandardCharsets.UTF_8);
                    interactive = System.console() != null;
                }
            } catch (IOException e) {
                System.err.println("cqlsh: " + e.getMessage());
                System.exit(1);
                return;
            }
            ConsistencyLevel cl = ConsistencyLevel.ONE;
            int failed = 0;
            try (Cluster c = b.build(); Session s = c.connect()) {
                if (ks != null) s.execute("USE " + ks);
                if (interactive)
                    System.out.println("Connected to " + c.getMetadata().getClusterName() + " at " + host + ":" + port
                            + " (cassandgo's cqlsh; TLS " + (ctx != null ? "on, certificate checked" : "off") + ")");
                BufferedReader in = new BufferedReader(src);
                StringBuilder buf = new StringBuilder();
                for (;;) {
                    if (interactive) {
                        System.out.print(buf.toString().isBlank() ? "cqlsh> " : "   ... ");
                        System.out.flush();
                    }
                    String l = in.readLine();
                    if (l == null) {
                        if (!buf.toString().isBlank()) buf.append(";\n");
                        else break;
                    } else {
                        buf.append(l).append('\n');
                    }
                    for (String st : split(buf)) {
                        String u = st.toUpperCase(Locale.ROOT);
                        if (u.equals("EXIT") || u.equals("QUIT")) System.exit(failed > 0 ? 2 : 0);
                        if (u.equals("CONSISTENCY")) {
                            System.out.println("Current consistency level is " + cl + ".");
                            continue;
                        }
                        if (u.startsWith("CONSISTENCY ")) {
                            try {
                                cl = ConsistencyLevel.valueOf(u.substring(12).trim());
                                System.out.println("Consistency level set to " + cl + ".");
                            } catch (IllegalArgumentException e) {
                                System.err.println("Improper CONSISTENCY command.");
                                failed++;
                            }
                            continue;
                        }
                        try {
                            ResultSet rs = s.execute(new SimpleStatement(st).setConsistencyLevel(cl));
                            if (rs.getColumnDefinitions().size() > 0) table(rs);
                        } catch (DriverException e) {
                            System.err.println("<stdin>: " + e.getClass().getSimpleName() + ": " + scrub(e.getMessage()));
                            failed++;
                            if (!interactive) System.exit(2);
                        }
                    }
                    if (l == null) break;
                }
            } catch (AuthenticationException e) {
                System.err.println("cqlsh: login refused: " + scrub(e.getMessage())
                        + (cred.equals("-") ? " (no credentials file: run cassandgo apply)" : ""));
                System.exit(1);
            } catch (NoHostAvailableException e) {
                boolean auth = authFailure(e);
                String why = e.getErrors().values().stream().findFirst().map(t -> scrub(t.getMessage())).orElse("");
                System.err.println("cqlsh: " + (auth ? "login refused: " : "cannot connect to " + host + ":" + port + ": ") + why
                        + (auth && cred.equals("-") ? " (no credentials file: run cassandgo apply)" : ""));
                System.exit(1);
            } catch (IOException e) {
                System.err.println("cqlsh: " + e.getMessage());
                System.exit(1);
            } catch (DriverException e) {
                System.err.println("cqlsh: " + scrub(e.getMessage()));
                System.exit(1);
            }
            System.exit(failed > 0 ? 2 : 0);
        }
    }
}
