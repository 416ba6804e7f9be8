// Against a real single-node KRaft broker (Kafka 4.x from Maven Central) started by the test.
import { controlLoopSuite } from "../src/suites/control-loop";
import { kafkaStack } from "../src/stack";

controlLoopSuite("Kafka", () => kafkaStack({ rate: 20 }));
