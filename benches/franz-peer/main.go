// franz-peer: the franz-go side of kquota's benchmark harness (scripts/bench).
//
// kcl, franz-go's command-line client, is not installable from the Go module proxy here, so the
// harness measures franz-go itself through this small program: the same kadm admin calls kcl
// makes for `kcl admin client-quotas describe/alter`, and a kgo producer/consumer loop.
//
//	franz-peer describe   -brokers B -user U -client-id C
//	franz-peer alter      -brokers B -user U -client-id C -value V
//	franz-peer alter-many -brokers B -count N -value V     (N entities, one request)
//	franz-peer apply-many -brokers B -count N -value V     (the same work as `kquota quotas apply`:
//	                       describe everything, diff, alter what differs, then poll each broker
//	                       until it shows the change)
//	franz-peer produce    -brokers B -topic T -num N -size S -acks 1|all -linger-ms 5 -batch-bytes 16384
//	franz-peer consume    -brokers B -topic T -num N
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: franz-peer describe|alter|alter-many|apply-many|produce|consume [flags]")
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	brokers := fs.String("brokers", "127.0.0.1:9092", "seed brokers, comma separated")
	user := fs.String("user", "", "user principal")
	clientID := fs.String("client-id", "", "client id")
	value := fs.Float64("value", 1024, "producer_byte_rate to set")
	count := fs.Int("count", 1000, "entities for alter-many")
	prefix := fs.String("prefix", "bench", "entity name prefix for alter-many")
	topic := fs.String("topic", "", "topic")
	num := fs.Int("num", 100000, "records")
	size := fs.Int("size", 100, "record value size in bytes")
	acks := fs.String("acks", "1", "1 or all")
	linger := fs.Int("linger-ms", 5, "linger.ms")
	batch := fs.Int("batch-bytes", 16384, "max batch bytes")
	_ = fs.Parse(os.Args[2:])

	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(*brokers, ",")...)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	switch cmd {
	case "describe":
		adm := admin(opts)
		q, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{
			{Type: "user", MatchName: user},
			{Type: "client-id", MatchName: clientID},
		})
		check(err)
		for _, d := range q {
			fmt.Println(d.Entity.String(), d.Values)
		}
	case "alter":
		adm := admin(opts)
		res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{entry(*user, *clientID, *value)})
		check(err)
		checkAltered(res)
	case "alter-many":
		adm := admin(opts)
		entries := make([]kadm.AlterClientQuotaEntry, 0, *count)
		for i := 0; i < *count; i++ {
			entries = append(entries, entry(fmt.Sprintf("%s-user-%d", *prefix, i), fmt.Sprintf("%s-client-%d", *prefix, i), *value))
		}
		res, err := adm.AlterClientQuotas(ctx, entries)
		check(err)
		checkAltered(res)
	case "apply-many":
		applyMany(ctx, opts, *prefix, *count, *value)
	case "produce":
		// Idempotence on for acks=all, off for acks=1, like the Java client's default.
		if *acks == "all" || *acks == "-1" {
			opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
		} else {
			opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
		}
		opts = append(opts,
			kgo.ProducerLinger(time.Duration(*linger)*time.Millisecond),
			kgo.ProducerBatchMaxBytes(int32(*batch)), kgo.ProducerBatchCompression(kgo.NoCompression()),
			kgo.DefaultProduceTopic(*topic))
		cl, err := kgo.NewClient(opts...)
		check(err)
		defer cl.Close()
		payload := make([]byte, *size)
		for i := range payload {
			payload[i] = byte('A' + rand.Intn(26))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		start := time.Now()
		for i := 0; i < *num; i++ {
			wg.Add(1)
			cl.Produce(ctx, &kgo.Record{Value: payload}, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				wg.Done()
			})
		}
		wg.Wait()
		check(firstErr)
		report(*num, *size, time.Since(start))
	case "consume":
		opts = append(opts, kgo.ConsumeTopics(*topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		cl, err := kgo.NewClient(opts...)
		check(err)
		defer cl.Close()
		start := time.Now()
		got, bytes := 0, 0
		for got < *num {
			fetches := cl.PollFetches(ctx)
			if errs := fetches.Errors(); len(errs) > 0 {
				fail(fmt.Sprint(errs[0].Err))
			}
			fetches.EachRecord(func(r *kgo.Record) {
				got++
				bytes += len(r.Value)
			})
		}
		report(got, bytes/max(got, 1), time.Since(start))
	default:
		fail("unknown command " + cmd)
	}
}

func admin(opts []kgo.Opt) *kadm.Client {
	cl, err := kgo.NewClient(opts...)
	check(err)
	return kadm.NewClient(cl)
}

func entry(user, clientID string, value float64) kadm.AlterClientQuotaEntry {
	u, c := user, clientID
	return kadm.AlterClientQuotaEntry{
		Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &u}, {Type: "client-id", Name: &c}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: value}},
	}
}

func checkAltered(res kadm.AlteredClientQuotas) {
	for _, r := range res {
		if r.Err != nil {
			fail(fmt.Sprintf("%s: %v %s", r.Entity, r.Err, r.ErrMessage))
		}
	}
	fmt.Printf("altered %d entities\n", len(res))
}

func report(records, size int, d time.Duration) {
	s := d.Seconds()
	fmt.Printf("records=%d bytes=%d seconds=%.6f records_per_sec=%.1f mb_per_sec=%.3f\n",
		records, records*size, s, float64(records)/s, float64(records*size)/s/1048576)
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "franz-peer: "+msg)
	os.Exit(1)
}

// applyMany does what `kquota quotas apply` does for N (user, client-id) entities with one
// producer_byte_rate each: describe every quota, alter only the entities whose value differs (one
// request), then poll every broker with a describe until all of them show the new values.
func applyMany(ctx context.Context, opts []kgo.Opt, prefix string, count int, value float64) {
	cl, err := kgo.NewClient(opts...)
	check(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	current, err := adm.DescribeClientQuotas(ctx, false, nil)
	check(err)
	have := make(map[string]float64, len(current))
	for _, d := range current {
		for _, v := range d.Values {
			if v.Key == "producer_byte_rate" {
				have[entityKey(d.Entity)] = v.Value
			}
		}
	}
	want := make(map[string]float64, count)
	var entries []kadm.AlterClientQuotaEntry
	for i := 0; i < count; i++ {
		u, c := fmt.Sprintf("%s-user-%d", prefix, i), fmt.Sprintf("%s-client-%d", prefix, i)
		e := entry(u, c, value)
		k := entityKey(e.Entity)
		want[k] = value
		if v, ok := have[k]; !ok || v != value {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		fmt.Println("no changes")
		return
	}
	res, err := adm.AlterClientQuotas(ctx, entries)
	check(err)
	checkAltered(res)
	brokers, err := adm.ListBrokers(ctx)
	check(err)
	for _, b := range brokers {
		wait := 2 * time.Millisecond
		for {
			req := kmsg.NewPtrDescribeClientQuotasRequest()
			resp, err := req.RequestWith(ctx, cl.Broker(int(b.NodeID)))
			check(err)
			seen := 0
			for _, e := range resp.Entries {
				var ent kadm.ClientQuotaEntity
				for _, c := range e.Entity {
					ent = append(ent, kadm.ClientQuotaEntityComponent{Type: c.Type, Name: c.Name})
				}
				k := entityKey(ent)
				if w, ok := want[k]; ok {
					for _, v := range e.Values {
						if v.Key == "producer_byte_rate" && v.Value == w {
							seen++
						}
					}
				}
			}
			if seen == len(want) {
				break
			}
			time.Sleep(wait)
			if wait < 50*time.Millisecond {
				wait *= 2
			}
		}
	}
}

// entityKey is an order-independent text form of an entity (default names as <default>).
func entityKey(e kadm.ClientQuotaEntity) string {
	parts := make([]string, 0, len(e))
	for _, c := range e {
		name := "<default>"
		if c.Name != nil {
			name = "'" + *c.Name + "'"
		}
		parts = append(parts, c.Type+"="+name)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
