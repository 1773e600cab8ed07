// Test vectors for crates/kquota-cli/src/javamap.rs: the iteration order of a real
// java.util.HashMap after chosen sequences of puts, and which of its bins are red-black trees.
//
// Regenerate (OpenJDK 17) with:
//
//   java --add-opens java.base/java.util=ALL-UNNAMED \
//        -XX:+UnlockExperimentalVMOptions -XX:hashCode=2 \
//        testdata/javamap/HashMapOrder.java > testdata/javamap/hashmap-order.txt
//
// --add-opens lets this program read HashMap.table to report the tree bins. -XX:hashCode=2 makes
// every System.identityHashCode 1: HashMap breaks ties between unequal keys of equal hashes that
// are not Comparable by identity hash (TreeNode.tieBreakOrder), which is otherwise different from
// run to run; with all identity hashes equal the new key always goes left (-1), the rule
// javamap.rs follows. The program refuses to run without it.
//
// Output, one scenario after another:
//
//   scenario NAME initial=N keys=int|string|tie|entity
//   put TOKEN TOKEN ...          the keys in put order (a key may be put again)
//   check P cap=C trees=B,B|- order=TOKEN,TOKEN,...    after the first P puts
//   end
//
// Key tokens: int = an Integer (hash = its value); string = a String without spaces or commas;
// tie = ID/HASH, a key that is not Comparable with that hashCode, equal by ID; entity = N, the
// quota entity {user=bench-user-N, client-id=bench-client-N}, a key that is not Comparable with
// the hashCode of Kafka's ClientQuotaEntity (Objects.hash(entries) = 31 + entries.hashCode()).
// A value is the index of its put.
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

public class HashMapOrder {
    /** Not Comparable, equal by id, hashCode given. */
    static final class Tie {
        final String id;
        final int hash;

        Tie(String id, int hash) {
            this.id = id;
            this.hash = hash;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tie && ((Tie) o).id.equals(id);
        }

        @Override
        public String toString() {
            return id + "/" + hash;
        }
    }

    /** Hashes like Kafka's ClientQuotaEntity of {user=bench-user-N, client-id=bench-client-N}. */
    static final class Entity {
        final int n;
        final Map<String, String> entries = new HashMap<>();

        Entity(int n) {
            this.n = n;
            entries.put("user", "bench-user-" + n);
            entries.put("client-id", "bench-client-" + n);
        }

        @Override
        public int hashCode() {
            return Objects.hash(entries);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entity && ((Entity) o).n == n;
        }

        @Override
        public String toString() {
            return Integer.toString(n);
        }
    }

    static Field tableField;

    /** Deterministic pseudo-random numbers (a 64-bit LCG), so the output never changes. */
    static long seed = 20250101L;

    static int next(int bound) {
        seed = seed * 6364136223846793005L + 1442695040888963407L;
        return (int) ((seed >>> 33) % bound);
    }

    /** An int whose spread hash (h ^ h >>> 16) is (high << 16) | low. */
    static int spreadTo(int high, int low) {
        return (high << 16) | ((high ^ low) & 0xFFFF);
    }

    /** Distinct random highs in [0, 65536), so keys of one low are distinct. */
    static List<Integer> highs(int count) {
        List<Integer> out = new ArrayList<>();
        while (out.size() < count) {
            int h = next(65536);
            if (!out.contains(h)) {
                out.add(h);
            }
        }
        return out;
    }

    enum Checks { EVERY, CHANGES, FINAL }

    static void run(String name, int initial, String kind, List<Object> keys, Checks checks)
            throws Exception {
        System.out.println("scenario " + name + " initial=" + initial + " keys=" + kind);
        StringJoiner put = new StringJoiner(" ", "put ", "");
        for (Object k : keys) {
            put.add(k.toString());
        }
        System.out.println(put);
        HashMap<Object, Integer> m = new HashMap<>(initial);
        String lastShape = "";
        for (int i = 0; i < keys.size(); i++) {
            m.put(keys.get(i), i);
            Object[] table = (Object[]) tableField.get(m);
            StringJoiner trees = new StringJoiner(",");
            for (int b = 0; b < table.length; b++) {
                if (table[b] != null && table[b].getClass().getName().equals("java.util.HashMap$TreeNode")) {
                    trees.add(Integer.toString(b));
                }
            }
            String shape = "cap=" + table.length + " trees=" + (trees.length() == 0 ? "-" : trees.toString());
            boolean inTree = false;
            int bin = (table.length - 1) & (keys.get(i).hashCode() ^ (keys.get(i).hashCode() >>> 16));
            if (table[bin] != null && table[bin].getClass().getName().equals("java.util.HashMap$TreeNode")) {
                inTree = true;
            }
            boolean check = checks == Checks.EVERY
                    || (checks == Checks.CHANGES && (!shape.equals(lastShape) || inTree))
                    || i == keys.size() - 1;
            lastShape = shape;
            if (check) {
                StringJoiner order = new StringJoiner(",");
                for (Object k : m.keySet()) {
                    order.add(k.toString());
                }
                System.out.println("check " + (i + 1) + " " + shape + " order=" + order);
            }
        }
        System.out.println("end");
    }

    public static void main(String[] args) throws Exception {
        if (System.identityHashCode(new Object()) != System.identityHashCode(new Object())) {
            System.err.println("run with -XX:+UnlockExperimentalVMOptions -XX:hashCode=2 (see the header)");
            System.exit(2);
        }
        tableField = HashMap.class.getDeclaredField("table");
        tableField.setAccessible(true);

        // 1. One bin (spread low bits 5) in new HashMap<>(16): the 9th and 10th keys resize
        //    (16 -> 32 -> 64) instead of treeifying, the 11th treeifies, later keys go into the
        //    tree (highs >= 32768 are negative hashes: signed order); then a key put again.
        List<Object> keys = new ArrayList<>();
        for (int h : highs(30)) {
            keys.add(spreadTo(h, 5));
        }
        keys.add(keys.get(12));
        keys.add(keys.get(3));
        run("treeify-after-small-table-resizes", 16, "int", keys, Checks.EVERY);

        // 2./3. Ascending and descending hashes into one bin of 64: rotations at every level,
        //    a new root (moved to the front of the bin) again and again.
        keys = new ArrayList<>();
        for (int h = 1; h <= 40; h++) {
            keys.add(spreadTo(h * 1000, 7));
        }
        run("ascending-into-a-tree", 64, "int", keys, Checks.EVERY);
        keys = new ArrayList<>();
        for (int h = 40; h >= 1; h--) {
            keys.add(spreadTo(h * 1000 + 40000, 7));
        }
        run("descending-into-a-tree", 64, "int", keys, Checks.EVERY);

        // 4. Splits at resizes. In a table of 64: bin 5 holds 12 keys of low 5 and 6 of low 69
        //    (a tree); bin 37 holds 10 keys of low 165 (a tree). The resize to 128 splits bin 5
        //    into 12 (re-treeified) and 6 (untreeified), and keeps bin 37 a tree as it is (every
        //    key stays low). More keys of low 69 treeify bin 69 again. The resize to 256 moves
        //    bin 37's tree to 165 as it is (every key goes high) and keeps bin 5's tree.
        keys = new ArrayList<>();
        List<Integer> h5 = highs(16);
        List<Integer> h69 = highs(9);
        List<Integer> h165 = highs(10);
        for (int i = 0; i < 12; i++) {
            keys.add(spreadTo(h5.get(i), 5));
            if (i % 2 == 1) {
                keys.add(spreadTo(h69.get(i / 2), 69));
            }
        }
        for (int h : h165) {
            keys.add(spreadTo(h, 165));
        }
        int filler = 0;
        while (keys.size() < 60) {
            int low = 200 + filler++;
            if (low % 64 != 5 && low % 64 != 37) {
                keys.add(low);
            }
        }
        for (int i = 6; i < 9; i++) {
            keys.add(spreadTo(h69.get(i), 69));
        }
        for (int i = 12; i < 16; i++) {
            keys.add(spreadTo(h5.get(i), 5));
        }
        while (keys.size() < 110) {
            int low = 200 + filler++;
            if (low % 64 != 5 && low % 64 != 37) {
                keys.add(low);
            }
        }
        run("splits-retreeify-untreeify-keep", 64, "int", keys, Checks.CHANGES);

        // 5. Strings of equal hashes ("Aa" and "BB" hash alike): ordered by compareTo.
        keys = new ArrayList<>();
        String[] parts = {"Aa", "BB"};
        List<String> strings = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            strings.add(parts[i & 1] + parts[(i >> 1) & 1] + parts[(i >> 2) & 1] + parts[(i >> 3) & 1]);
        }
        while (!strings.isEmpty()) {
            keys.add(strings.remove(next(strings.size())));
        }
        for (int i = 0; i < 8; i++) {
            keys.add("x" + (char) ('a' + next(26)) + i);
        }
        run("strings-of-equal-hashes", 16, "string", keys, Checks.EVERY);

        // 6. Keys that are not Comparable, equal hashes: tieBreakOrder (identity hashes, all 1
        //    here), mixed with other hashes of the same bin.
        keys = new ArrayList<>();
        int t = 0;
        for (int i = 0; i < 30; i++) {
            if (next(3) == 0) {
                keys.add(new Tie("k" + i, spreadTo(next(65536), 9)));
            } else {
                keys.add(new Tie("k" + i, spreadTo(12345 + (t++ % 2), 9)));
            }
        }
        keys.add(keys.get(4));
        run("identity-ties", 64, "tie", keys, Checks.EVERY);

        // 7. Many keys in few heavy bins from new HashMap<>(0): every kind of event at scale.
        keys = new ArrayList<>();
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            int k = spreadTo(next(65536), next(40) * 97);
            if (next(20) == 0 && !seen.isEmpty()) {
                k = seen.get(next(seen.size()));
            }
            seen.add(k);
            keys.add(k);
        }
        run("heavy-bins-at-scale", 0, "int", keys, Checks.FINAL);

        // 8. Quota entities {user=bench-user-N, client-id=bench-client-N}, N = 0..999, in
        //    new HashMap<>(1000), as the admin client builds its describe result: structured
        //    names collide into long bins and often have exactly equal hashes.
        keys = new ArrayList<>();
        for (int n = 0; n < 1000; n++) {
            keys.add(new Entity(n));
        }
        run("bench-quota-entities", 1000, "entity", keys, Checks.FINAL);
    }
}
