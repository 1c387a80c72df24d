// Cql.java - a minimal CQL client for the tests, run as a single-file
// program (java Cql.java) on the classpath of the Cassandra jars, whose
// DataStax driver 3.x (the one sstableloader uses) it borrows.
//
//   java -cp "<lib>/*" Cql.java HOST PORT LOCAL_DC STATEMENT...
//
// Runs the statements in order at LOCAL_ONE through LOCAL_DC's nodes and
// prints the rows of the last one, columns separated by tabs.
import com.datastax.driver.core.*;
import com.datastax.driver.core.policies.*;

public class Cql {
    public static void main(String[] a) {
        if (a.length < 4) {
            System.err.println("usage: Cql HOST PORT LOCAL_DC STATEMENT...");
            System.exit(64);
        }
        try (Cluster c = Cluster.builder()
                .addContactPoint(a[0]).withPort(Integer.parseInt(a[1]))
                .withoutJMXReporting().withoutMetrics()
                .withLoadBalancingPolicy(DCAwareRoundRobinPolicy.builder()
                        .withLocalDc(a[2]).build())
                .withQueryOptions(new QueryOptions()
                        .setConsistencyLevel(ConsistencyLevel.LOCAL_ONE))
                .build();
             Session s = c.connect()) {
            ResultSet rs = null;
            for (int i = 3; i < a.length; i++)
                rs = s.execute(a[i]);
            for (Row r : rs) {
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < r.getColumnDefinitions().size(); i++) {
                    if (i > 0) b.append('\t');
                    Object o = r.getObject(i);
                    b.append(o);
                }
                System.out.println(b);
            }
        }
    }
}
