"""The HEX authors' answer parsing, vote and accuracy, verbatim (imports aside), run by
tests/imports/test_hex.py on the same files hexviz imports.

From junos-ai-org/hex at commit b714b9c61b8ab700261fed42cab5b2b8ff00a394 (Apache-2.0, HEX/LICENSE):

- HEX/eval/parser_helper.py lines 16-219: ``last_boxed_only_string`` ... ``is_equiv``;
- HEX/eval/HEX_run_by_given_json_samples.py lines 70-284: ``gsm_extract_ans_from_generation``,
  ``parse_math_answers``, ``parse_countdown_answers``, ``evaluate_countdown``,
  ``parse_sudoku_answers``, ``evaluate_sudoku_answers``;
- the same file, lines 620-684: ``most_frequent_elements_exclude_None_and_tie_lownll``;
- the same file, lines 1846-2101: the body of its ``__main__`` loop over one set of files (read
  them, parse every generation, vote, score, print the accuracy), wrapped here in
  ``vote_files`` whose ``if True:`` keeps the body's indentation. Its inputs (``paths``,
  ``data_type``, ``vote_rule``, ``select_strategy``, ``save_BOLT_json``) are the settings that
  ``__main__`` assigns above the loop; the return statement is ours.

Only the imports and that wrapper are ours.
"""
# ruff: noqa
import json
import re
from collections import Counter, defaultdict


# --- HEX/eval/parser_helper.py lines 16-219 ----------------------------------------

def last_boxed_only_string(string):
    idx = string.rfind("\\boxed")
    if "\\boxed " in string:
        return "\\boxed " + string.split("\\boxed ")[-1].split("$")[0]
    if idx < 0:
        idx = string.rfind("\\fbox")
        if idx < 0:
            return string

    i = idx
    right_brace_idx = None
    num_left_braces_open = 0
    while i < len(string):
        if string[i] == "{":
            num_left_braces_open += 1
        if string[i] == "}":
            num_left_braces_open -= 1
            if num_left_braces_open == 0:
                right_brace_idx = i
                break
        i += 1

    if right_brace_idx is None:
        retval = None
    else:
        retval = string[idx : right_brace_idx + 1]

    return retval


def remove_boxed(s):
    if "\\boxed " in s:
        left = "\\boxed "
        assert s[: len(left)] == left
        return s[len(left) :]

    left = "\\boxed{"

    try:
        assert s[: len(left)] == left
        assert s[-1] == "}"

        return s[len(left) : -1]
    except:
        return s


def fix_fracs(string):
    substrs = string.split("\\frac")
    new_str = substrs[0]
    if len(substrs) > 1:
        substrs = substrs[1:]
        for substr in substrs:
            new_str += "\\frac"
            if substr[0] == "{":
                new_str += substr
            else:
                try:
                    assert len(substr) >= 2
                except AssertionError:
                    return string
                a = substr[0]
                b = substr[1]
                if b != "{":
                    if len(substr) > 2:
                        post_substr = substr[2:]
                        new_str += "{" + a + "}{" + b + "}" + post_substr
                    else:
                        new_str += "{" + a + "}{" + b + "}"
                else:
                    if len(substr) > 2:
                        post_substr = substr[2:]
                        new_str += "{" + a + "}" + b + post_substr
                    else:
                        new_str += "{" + a + "}" + b
    string = new_str
    return string


def remove_right_units(string):
    # "\\text{ " only ever occurs (at least in the val set) when describing units
    if "\\text{ " in string:
        splits = string.split("\\text{ ")
        assert len(splits) == 2
        return splits[0]
    else:
        return string


def fix_sqrt(string):
    if "\\sqrt" not in string:
        return string
    splits = string.split("\\sqrt")
    new_string = splits[0]
    for split in splits[1:]:
        if split[0] != "{":
            a = split[0]
            new_substr = "\\sqrt{" + a + "}" + split[1:]
        else:
            new_substr = "\\sqrt" + split
        new_string += new_substr
    return new_string


def strip_string(string):
    # linebreaks
    string = string.replace("\n", "")

    # remove inverse spaces
    string = string.replace("\\!", "")

    # replace \\ with \
    string = string.replace("\\\\", "\\")

    # replace tfrac and dfrac with frac
    string = string.replace("tfrac", "frac")
    string = string.replace("dfrac", "frac")

    # remove \left and \right
    string = string.replace("\\left", "")
    string = string.replace("\\right", "")

    # Remove circ (degrees)
    string = string.replace("^{\\circ}", "")
    string = string.replace("^\\circ", "")

    # remove dollar signs
    string = string.replace("\\$", "")

    # remove units (on the right)
    string = remove_right_units(string)

    # remove percentage
    string = string.replace("\\%", "")
    string = string.replace("\%", "")  # noqa: W605

    # " 0." equivalent to " ." and "{0." equivalent to "{." Alternatively, add "0" if "." is the start of the string
    string = string.replace(" .", " 0.")
    string = string.replace("{.", "{0.")
    # if empty, return empty string
    if len(string) == 0:
        return string
    if string[0] == ".":
        string = "0" + string

    # to consider: get rid of e.g. "k = " or "q = " at beginning
    if len(string.split("=")) == 2:
        if len(string.split("=")[0]) <= 2:
            string = string.split("=")[1]

    # fix sqrt3 --> sqrt{3}
    string = fix_sqrt(string)

    # remove spaces
    string = string.replace(" ", "")

    # \frac1b or \frac12 --> \frac{1}{b} and \frac{1}{2}, etc. Even works with \frac1{72} (but not \frac{72}1). Also does a/b --> \\frac{a}{b}
    string = fix_fracs(string)

    # manually change 0.5 --> \frac{1}{2}
    if string == "0.5":
        string = "\\frac{1}{2}"

    # NOTE: X/Y changed to \frac{X}{Y} in dataset, but in simple cases fix in case the model output is X/Y
    string = fix_a_slash_b(string)

    return string


def fix_a_slash_b(string):
    if len(string.split("/")) != 2:
        return string
    a = string.split("/")[0]
    b = string.split("/")[1]
    try:
        a = int(a)
        b = int(b)
        assert string == "{}/{}".format(a, b)
        new_string = "\\frac{" + str(a) + "}{" + str(b) + "}"
        return new_string
    except AssertionError:
        return string


def is_equiv(str1, str2, verbose=False):
    if type(str1) == float or type(str2) == float:
        try:
            return abs(float(str1) - float(str2)) < 1e-6
        except:
            return False
    if str1 is None and str2 is None:
        print("WARNING: Both None")
        return True
    if str1 is None or str2 is None:
        return False

    try:
        ss1 = strip_string(str1)
        ss2 = strip_string(str2)
        if verbose:
            print(ss1, ss2)
        return ss1 == ss2
    except Exception:
        return str1 == str2


# --- HEX/eval/HEX_run_by_given_json_samples.py lines 70-284 ------------------------

def gsm_extract_ans_from_generation(out_nl):
    import re
    parsed_answer = None
    boxed_matches = re.findall(r"\\boxed{(.*?)}", out_nl)
    if boxed_matches:
        for boxed_content in boxed_matches:
            boxed_content = boxed_content.strip()
            if boxed_content and boxed_content != "..." and not re.match(r"^\.+$", boxed_content):
                try:
                    parsed_answer = float(boxed_content)
                    break
                except ValueError:
                    numbers = re.findall(r"-?\d+\.?\d*", boxed_content)
                    if numbers:
                        try:
                            parsed_answer = float(numbers[0])
                            break
                        except ValueError:
                            pass
    if parsed_answer is None:
        answer_match = re.search(r"<answer>(.*?)</answer>", out_nl, re.DOTALL)
        if answer_match:
            answer_text = answer_match.group(1).strip()
            if answer_text:
                try:
                    parsed_answer = float(answer_text)
                except ValueError:
                    numbers = re.findall(r"-?\d+\.?\d*", answer_text)
                    if numbers:
                        try:
                            parsed_answer = float(numbers[-1])
                        except ValueError:
                            pass
    return parsed_answer

def parse_math_answers(raw_generation):
    parsed_answer = None
    try:
        parsed_answer = remove_boxed(last_boxed_only_string(raw_generation))
    except:
        parsed_answer = None

    if not parsed_answer:
        answer_match = re.search(r"<answer>(.*?)</answer>", raw_generation, re.DOTALL)
        if answer_match:
            parsed_answer = answer_match.group(1).strip()
    return parsed_answer

def parse_countdown_answers(output_nl_each_strategy):
    
    def validate_equation(equation_str, available_numbers):
        """Validate that equation only uses available numbers and each number once."""
        try:
            numbers_in_eq = [int(n) for n in re.findall(r"\d+", equation_str)]
            available_numbers = sorted(available_numbers)
            numbers_in_eq = sorted(numbers_in_eq)
            return numbers_in_eq == available_numbers
        except:
            return False

    def evaluate_equation(equation_str):
        """Safely evaluate the arithmetic equation."""
        try:
            allowed_pattern = r"^[\d+\-*/().\s]+$"
            if not re.match(allowed_pattern, equation_str):
                raise ValueError("Invalid characters in equation.")
            result = eval(equation_str.strip(), {"__builtins__": None}, {})
            return result
        except Exception:
            return float("Inf")

    
    generated_text = output_nl_each_strategy
    equation = ""
    try:
        equation = remove_boxed(last_boxed_only_string(generated_text))
    except:
        # Try to extract from answer tags
        answer_match = re.search(r"<answer>(.*?)</answer>", generated_text, re.DOTALL)
        if answer_match:
            equation = answer_match.group(1).strip()
        else:
            equation = generated_text

    # Replace LaTeX operators with Python operators
    equation = equation.replace(r"\div", "/").replace(r"\times", "*").replace(r"\cdot", "*")
    return equation

def evaluate_countdown(voted_answer, ground_truth):
    
    def validate_equation(equation_str, available_numbers):
        """Validate that equation only uses available numbers and each number once."""
        try:
            numbers_in_eq = [int(n) for n in re.findall(r"\d+", equation_str)]
            available_numbers = sorted(available_numbers)
            numbers_in_eq = sorted(numbers_in_eq)
            return numbers_in_eq == available_numbers
        except:
            return False

    def evaluate_equation(equation_str):
        """Safely evaluate the arithmetic equation."""
        try:
            allowed_pattern = r"^[\d+\-*/().\s]+$"
            if not re.match(allowed_pattern, equation_str):
                raise ValueError("Invalid characters in equation.")
            result = eval(equation_str.strip(), {"__builtins__": None}, {})
            return result
        except Exception:
            return float("Inf")
    # Extract available numbers and target from ground_truth
    numbers = []
    target = None

    if isinstance(ground_truth, list) and len(ground_truth) == 2:
        numbers = ground_truth[0]
        target = ground_truth[1]
    else:
        # Fallback to parsing from question if ground_truth is not in expected format
        numbers_match = re.search(r"Numbers: \[([\d, ]+)\]", question, re.IGNORECASE)
        if numbers_match:
            numbers_str = numbers_match.group(1)
            numbers = [int(num.strip()) for num in numbers_str.split(",")]

        target_match = re.search(r"Target: (\d+)", question, re.IGNORECASE)
        if target_match:
            target = int(target_match.group(1))
    ######################
    # Check for equation with equals sign and extract only the expression part
    equation = voted_answer
    equation_match = re.search(r"([0-9+\-*/() ]+)=[0-9. ]+", equation)
    if equation_match:
        equation = equation_match.group(1).strip()

    is_correct = False
    result = None

    # Validate and evaluate the equation
    is_valid = validate_equation(equation, numbers)
    if is_valid:
        result = evaluate_equation(equation)
        if target is not None and abs(result - target) < 1e-5:
            is_correct = True
            
    return is_correct


def parse_sudoku_answers(question, output_nl):

    question = question
    raw_generation = output_nl

    # Extract puzzle
    puzzle_str = ""
    if len(question) >= 16 and all(c.isdigit() or c == "0" for c in question[:16]):
        puzzle_str = question[:16]
    else:
        match = re.search(r"Sudoku puzzle: ([0-9]{16})", question)
        if match:
            puzzle_str = match.group(1)
    assert len(puzzle_str) == 16, f"Invalid puzzle string: {puzzle_str}"

    empty_indices = [i for i in range(16) if puzzle_str[i] == "0"]
    empty_cells = len(empty_indices)

    # Extract solution using regex patterns
    solution_str = ""
    patterns = [
        r"<answer>.*?```\s*([\d\s]+)```",
        r"<answer>(.*?)(?:<\|eot_id\|>|<\|endoftext\|>|</answer>)",
        r"</answer>\s*(.*?)(?:<\|eot_id\|>|<\|endoftext\|>|$)",
        r".*?(\d{16})\s*</answer>",
        r"\b(\d{16})\b",
    ]

    for pattern in patterns:
        if solution_str:
            break
        match = re.search(pattern, raw_generation, re.DOTALL)
        if match and match.group(1).strip():
            solution_str = match.group(1).strip()

    solution_str = re.sub(r"\s", "", solution_str)
    return solution_str

def evaluate_sudoku_answers(extracted_answer, question, ground_truth):

    # Extract puzzle
    puzzle_str = ""
    if len(question) >= 16 and all(c.isdigit() or c == "0" for c in question[:16]):
        puzzle_str = question[:16]
    else:
        match = re.search(r"Sudoku puzzle: ([0-9]{16})", question)
        if match:
            puzzle_str = match.group(1)
    assert len(puzzle_str) == 16, f"Invalid puzzle string: {puzzle_str}"

    empty_indices = [i for i in range(16) if puzzle_str[i] == "0"]
    empty_cells = len(empty_indices)
    
    solution_str = extracted_answer

    # Handle solution length
    if not solution_str:
        correct_cells = 0
    else:
        if len(solution_str) < 16:
            solution_str = solution_str + "0" * (16 - len(solution_str))
        elif len(solution_str) > 16:
            solution_str = solution_str[:16]
        correct_cells = sum(1 for i in empty_indices if solution_str[i] == ground_truth[i])

    accuracy = correct_cells / empty_cells if empty_cells > 0 else 0.0
    return correct_cells, empty_cells # A,B  매 생성마다, A,B를 각각 누적시키고 비율을 최종적으로 구해야함


# --- HEX/eval/HEX_run_by_given_json_samples.py lines 620-684 -----------------------

def most_frequent_elements_exclude_None_and_tie_lownll(
    data, selecting_rule='', exclude_None=True
):
    """
    data: list of tuples (i, ll) where 'll' is log-likelihood (will be negated to nll)
    Returns:
        (list_of_(value, nll), is_tied_among_frequencies)
    """
    # None 제거 및 -ll -> nll로 변환
    if exclude_None:
        data = [(i, -ll) for i, ll in data if i is not None]
    else:
        data = [(i, -ll) for i, ll in data]

    if not data:
        return [(None, 0)], False

    # 공통 준비물: 빈도 계산, 동률 여부
    counter = Counter([i for i, _ in data])
    max_count = max(counter.values())
    most_common = counter.most_common()
    top_count = most_common[0][1]
    is_tied = sum(1 for _, count in most_common if count == top_count) > 1

    # 값별 nll 리스트/요약
    ll_map = defaultdict(list)
    for i, nll in data:
        ll_map[i].append(nll)

    if selecting_rule == 'frequency':
        # 최빈값들의 (값, 최소 nll) 모두 반환
        result = [(k, min(ll_map[k])) for k, v in counter.items() if v == max_count]
        return result, is_tied

    elif selecting_rule == 'lowest_nll':
        # 전역 최소 nll을 갖는 값(들) 반환 (중복 제거)
        min_ll = min(nll for _, nll in data)
        best_values = {i for i, nll in data if nll == min_ll}
        result = [(i, min_ll) for i in best_values]
        return result, is_tied

    elif selecting_rule == 'frequency_tie_lowest_nll':
        # 최빈값 집합에서 nll이 가장 작은 값(들)만 반환
        top_items = [(k, min(ll_map[k])) for k, v in counter.items() if v == max_count]
        if not top_items:
            return [(None, 0)], is_tied
        min_top_nll = min(nll for _, nll in top_items)
        result = [(k, nll) for k, nll in top_items if nll == min_top_nll]
        return result, is_tied

    else:
        # 규칙 미지정: 안전하게 전역 최소 nll 반환
        min_ll = min(nll for _, nll in data)
        best_values = {i for i, nll in data if nll == min_ll}
        result = [(i, min_ll) for i in best_values]
        return result, is_tied


# --- HEX/eval/HEX_run_by_given_json_samples.py lines 1846-2101 ---------------------

def vote_files(paths, data_type, vote_rule, select_strategy='select_first',
               save_BOLT_json=False):  # ours
    if True:  # ours
        # 모든 파일 미리 읽어오기
        all_data = []
        for path in paths:
            with open(path, encoding="utf-8") as f:
                all_data.append(json.load(f))

        # 기준 파일 (첫 번째 파일 ground_truth 사용)
        base_data = all_data[0]
        num_datapoints = len(base_data["generations"])

        result_list = []
        result_tie_list = []
        # distance_list = []
        # common_prefix_length_list = [] 
        # generation_length_list = []



        extracted_list_for_all_datapoints = []
        extracted_list_for_all_datapoints_for_BOLT = []
        majvoted_list_for_all_datapoints = [] 
        gt_list_for_all_datapoints = []
        token_nl_list_for_all_datapoints = []
        nll_list = []

        for num in range(num_datapoints):
            now_datapoint_question = base_data["generations"][num]["prompt_input"]
            now_datapoint_gt = base_data["generations"][num]["ground_truth"]
            now_datapoint_question_0 = base_data["generations"][num]["question"]
            now_extracted_ans_list = []
            now_ans_list = []
            now_nl_tokens_list = []

            now_generation_and_extraction = []


            for data in all_data:
            
                now_generation = data["generations"][num]["generations"]
                now_question = data["generations"][num]["question"]



                try:
                    now_generation_ll = data["generations"][num]["loglikelihood"]
                except Exception:
                    now_generation_ll = 0     
                
                try:
                    now_generation_nl_tokens = data['generations'][num]["intermediate_types"][-1]
                    now_nl_tokens_list.append(now_generation_nl_tokens)
                   
                except Exception:
                    pass        

                

                if data_type == 'gsm':
                    now_extracted = gsm_extract_ans_from_generation(now_generation)
                elif data_type == 'math':
                    now_extracted = parse_math_answers(now_generation)
                elif data_type == 'countdown':
                    now_extracted = parse_countdown_answers(now_generation)
                elif data_type == 'sudoku':
                    now_extracted = parse_sudoku_answers(now_question, now_generation)
                elif data_type == 'arcc':
                    now_extracted = parse_math_answers(now_generation)
                elif data_type == 'truthfulqa':
                    now_extracted = parse_math_answers(now_generation)
                elif data_type == 'hellaswag':
                    now_extracted = parse_math_answers(now_generation)
                elif data_type == 'mmlu':
                    now_extracted = parse_math_answers(now_generation)



                now_ans_list.append(now_generation)
                now_extracted_ans_list.append((now_extracted, now_generation_ll))
                now_generation_and_extraction.append((now_extracted, now_generation, now_generation_ll))


            extracted_list_for_all_datapoints.append(now_extracted_ans_list)
            token_nl_list_for_all_datapoints.append((now_ans_list, now_nl_tokens_list, now_datapoint_question))
            extracted_list_for_all_datapoints_for_BOLT.append(now_generation_and_extraction)

            # print(now_nl_tokens_list)
        

            # print(now_extracted_ans_list, now_datapoint_gt)
            # majority_voted, is_tied, distance = most_frequent_element_4(now_extracted_ans_list)
            # if distance: distance_list.append(distance)

            # if num == 3:
            #     print(now_ans_list)
            #     exit()

            # ######################  !!!!!!!!!!!!!!!!!!   ################################
            # majority_voted_list, is_tied = most_frequent_elements(now_extracted_ans_list) 
            # # Past selecting criteria. None can be the final output!!
            # # But our prime rule of majvote is that 'we vote for extracted answer' so lets exclude None 
            # majority_voted_list, is_tied = most_frequent_elements_exclude_None(now_extracted_ans_list) 


            # print(now_extracted_ans_list)
    
            majority_voted_list, is_tied = most_frequent_elements_exclude_None_and_tie_lownll(now_extracted_ans_list, 
            selecting_rule=vote_rule) # 'frequency_tie_lowest_nll' 'lowest_nll' 'frequency'


            # if is_tied:
            #     print(majority_voted_list)
            # print(majority_voted_list)


            if select_strategy == 'select_first': # This is out BOLT
                majority_voted_list = majority_voted_list[:1] # for select first one when tied
                # print(majority_voted_list)
                nll = majority_voted_list[0][1] # (voted one ans, nll for that)
                nll_list.append(nll)
                

                ##################################################
                # Generate BOLT json 
                if save_BOLT_json:
                    bolt_selected_generation = None
                    for entry in extracted_list_for_all_datapoints_for_BOLT:
                        for extracted, generation, ll in entry:
                            if majority_voted_list[0][0] == extracted and nll == -ll:
                                bolt_selected_generation = generation
                                break
                    
                    assert bolt_selected_generation != None 
                    add_generation(BOLT_json, now_datapoint_question_0, now_datapoint_question, bolt_selected_generation, now_datapoint_gt, -nll)
                ##################################################


            elif select_strategy == 'either_right':
                majority_voted_list = majority_voted_list 
                nll = majority_voted_list[0][1] # (voted one ans, nll for that)
                nll_list.append(nll)
            # print(majority_voted_list)

            majvoted_list_for_all_datapoints.append(majority_voted_list)
            gt_list_for_all_datapoints.append(now_datapoint_gt)
            # print("모든 문자열이 동일한 prefix 길이:", common_prefix_length)

            is_corrct_list = []
            sudoku_list = []
    

        

            for majority_voted, voted_ans_nll in majority_voted_list:

                
                if data_type == 'gsm':
                    is_correct = False
                    if majority_voted is not None:
                        is_correct = majority_voted == now_datapoint_gt
                    else: 
                        is_correct = False
                    is_corrct_list.append(is_correct)

                    # if is_correct_gsm:
                    #     result_list.append(1)
                    # else:
                    #     result_list.append(0)

                elif data_type == 'math':
                    is_correct = False
                    if majority_voted is not None:
                        is_correct = is_equiv(majority_voted, now_datapoint_gt)
                    is_corrct_list.append(is_correct)

                    # if is_correct_math:
                    #     result_list.append(1)
                    # else:
                    #     result_list.append(0)

                elif data_type == 'countdown':
                    is_correct = evaluate_countdown(majority_voted, now_datapoint_gt)
                    is_corrct_list.append(is_correct)

                    # if is_correct:
                    #     result_list.append(1)
                    # else:
                    #     result_list.append(0)

                elif data_type == 'sudoku':
                    numerator_count, denominator_count = evaluate_sudoku_answers(majority_voted, now_question, now_datapoint_gt)
                    sudoku_list.append((numerator_count, denominator_count))

                elif data_type == 'arcc':
                    is_correct = False
                    if majority_voted is not None:
                        is_correct = is_equiv(majority_voted, now_datapoint_gt)
                    is_corrct_list.append(is_correct)


                elif data_type == 'truthfulqa':
                    is_correct = False
                    if majority_voted is not None:
                        is_correct = is_equiv(majority_voted, now_datapoint_gt)
                    is_corrct_list.append(is_correct)

                elif data_type == 'hellaswag':
                    is_correct = False
                    if majority_voted is not None:
                        is_correct = is_equiv(majority_voted, now_datapoint_gt)
                    is_corrct_list.append(is_correct)
                
                elif data_type == 'mmlu':
                    is_correct = False
                    if majority_voted is not None:
                        is_correct = is_equiv(majority_voted, now_datapoint_gt)
                    is_corrct_list.append(is_correct)

            # print(is_corrct_list)


            if data_type in ['gsm', 'math', 'countdown', 'arcc', 'truthfulqa', 'hellaswag', 'mmlu']:
                # print(f'{num} | {now_extracted_ans_list} | {majority_voted_list} | {now_datapoint_gt}')
                if True in is_corrct_list: result_list.append(1)
                else: result_list.append(0)
            elif data_type in ['sudoku']:
                compare_tuples_list = [(numerator_count/denominator_count, numerator_count, denominator_count) for numerator_count, denominator_count in sudoku_list]
                # print(num, compare_tuples_list)
                max_tuple = max(compare_tuples_list, key=lambda x: x[0]) # choose best among tied
                result_list.append((max_tuple[1], max_tuple[2]))
            
            if is_tied: 
                result_tie_list.append(1)
            else:
                result_tie_list.append(0)

        
        # print(f'decoding: {paths}')
        print('-'*30)
        print(f'select_strategy: {select_strategy} | vote_rule: {vote_rule}')

        print(f'majority vote samples count: {len(paths)}')
        if data_type in ['gsm', 'math', 'countdown', 'arcc', 'truthfulqa', 'hellaswag', 'mmlu']:
            print(f'data_type: {data_type}')
            print(f'{(sum(result_list) / len(result_list))*100:.2f}%')
            print(f'{(sum(result_tie_list) / len(result_tie_list))*100:.2f}%')
            # print(f'{sum(distance_list) / len(distance_list) if len(distance_list) != 0 else None}')
            print('-'*30)
        elif data_type in ['sudoku']:
            print(f'data_type: {data_type}')
            all_acc = sum([numerator for numerator, denominator in result_list]) / sum([denominator for numerator, denominator in result_list])
            print(f'{all_acc*100:.2f}%')
            print(f'{(sum(result_tie_list) / len(result_tie_list))*100:.2f}%')
            print('-'*30)

        print(f'nll_list_len: {len(nll_list)}')
        print(f'nll_list_mean: {sum(nll_list) / len(nll_list):.2f}')
    return (result_list, result_tie_list, majvoted_list_for_all_datapoints,  # ours
            extracted_list_for_all_datapoints)  # ours
